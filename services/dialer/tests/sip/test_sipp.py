"""Our endpoint against sipp: RTP echo, a pcap with RFC 2833 DTMF, busy, CANCEL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_dialer.telephony.sip import CallFailed, CallState
from switchboard_testing.peer_apps import Sipp
from switchboard_testing.sip_endpoints import TRUNK_ON_LOOPBACK, EndpointFactory
from switchboard_testing.sip_peers import HOST, collect_audio, dominant_frequency, tone


async def test_sipp_echoes_our_audio_back(make_endpoint: EndpointFactory, tmp_path: Path) -> None:
    async with Sipp(tmp_path, "uas", "-rtp_echo") as sipp:
        bot = await make_endpoint(user="bot")
        call = await bot.call(sipp.uri)
        await asyncio.wait_for(call.wait_answered(), 5)
        call.send_audio(tone(1000, 1.5))
        echoed = await asyncio.wait_for(collect_audio(call.audio_in(), 1.0), 5)
        await call.hang_up()
        assert abs(dominant_frequency(echoed[1600:]) - 1000) < 15
        assert await sipp.process.wait(10) == 0, sipp.process.output()


async def test_sipp_calling_us_with_a_pcap_is_answered_and_its_dtmf_digit_arrives(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    bot = await make_endpoint(user="agent", inbound=TRUNK_ON_LOOPBACK)  # sipp is the trunk
    async with Sipp(tmp_path, "uac_pcap", remote=f"{HOST}:{bot.local_port}") as sipp:
        call = await asyncio.wait_for(bot.inbound.get(), 5)
        call.ring()
        await call.answer()
        digits = ""
        frames = 0

        async def count_audio() -> None:
            nonlocal frames
            async for _ in call.audio_in():
                frames += 1

        counter = asyncio.create_task(count_audio(), name="test-count-audio")
        async for digit in call.digits():
            digits += digit
        assert await asyncio.wait_for(call.ended, 20) == "remote_hangup"
        await asyncio.wait_for(counter, 2)
        assert await sipp.process.wait(10) == 0, sipp.process.output()
    assert digits == "1"
    assert frames > 200  # about 7 s of the pcap's A-law speech


async def test_a_busy_callee_ends_the_call_as_busy(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Sipp(tmp_path, "uas_busy.xml") as sipp:
        bot = await make_endpoint(user="bot")
        call = await bot.call(sipp.uri)
        try:
            await asyncio.wait_for(call.wait_answered(), 5)
            raise AssertionError("a busy callee answered")
        except CallFailed as failed:
            assert failed.reason == "busy"
        assert await sipp.process.wait(10) == 0, sipp.process.output()


async def test_hanging_up_while_it_rings_sends_cancel(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Sipp(tmp_path, "uas_cancel.xml") as sipp:
        bot = await make_endpoint(user="bot")
        call = await bot.call(sipp.uri)
        async for event in call.events():
            if event.state is CallState.RINGING:
                break
        await call.hang_up()
        assert await call.ended == "cancelled"
        assert await sipp.process.wait(10) == 0, sipp.process.output()
