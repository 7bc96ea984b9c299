"""Blind transfer: REFER when the far end takes it, a bridged call when it refuses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from switchboard_testing.peer_apps import Baresip
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST, collect_audio, dominant_frequency, read_wav, tone


async def test_baresip_accepts_refer_and_calls_the_target_itself(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Baresip(tmp_path, tone_hz=440) as caller:
        bot = await make_endpoint(user="bot")
        human = await make_endpoint(user="human")
        call = await bot.call(caller.uri)
        await asyncio.wait_for(call.wait_answered(), 5)

        async def human_answers() -> bytes:
            incoming = await asyncio.wait_for(human.inbound.get(), 10)
            await incoming.answer()
            heard = await collect_audio(incoming.audio_in(), 1.0)
            await incoming.hang_up()
            return heard

        answering = asyncio.create_task(human_answers(), name="test-human-answers")
        outcome = await asyncio.wait_for(
            bot.transfer(call, f"sip:human@{HOST}:{human.local_port}"), 15
        )
        assert outcome == "referred"
        assert await call.ended == "transferred"
        heard = await asyncio.wait_for(answering, 10)
        assert abs(dominant_frequency(heard[1600:]) - 440) < 15


async def test_a_refused_refer_falls_back_to_a_bridged_call(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Baresip(tmp_path, user="human", tone_hz=440) as human:
        bot = await make_endpoint(user="bot")
        caller = await make_endpoint(user="caller")  # our own endpoint answers REFER with 603
        call = await bot.call(f"sip:caller@{HOST}:{caller.local_port}")
        incoming = await asyncio.wait_for(caller.inbound.get(), 5)
        await incoming.answer()
        await asyncio.wait_for(call.wait_answered(), 5)
        outcome = await asyncio.wait_for(bot.transfer(call, human.uri), 10)
        assert outcome == "bridged"
        incoming.send_audio(tone(1000, 2.0))
        heard = await asyncio.wait_for(collect_audio(incoming.audio_in(), 1.5), 5)
        # What the caller hears now is the human's (baresip's) tone, relayed by the bot.
        assert abs(dominant_frequency(heard[-8000:]) - 440) < 15
        await asyncio.sleep(0.5)
        await incoming.hang_up()
        assert await asyncio.wait_for(call.ended, 5) == "remote_hangup"
        dumped = await human.heard()
        assert abs(dominant_frequency(read_wav(dumped)[-8000:]) - 1000) < 15


async def test_a_notify_reporting_failure_falls_back_to_a_bridged_call(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Baresip(tmp_path, tone_hz=440) as caller:
        bot = await make_endpoint(user="bot")
        human = await make_endpoint(user="human")
        call = await bot.call(caller.uri)
        await asyncio.wait_for(call.wait_answered(), 5)

        async def human_refuses_then_answers() -> bytes:
            (await asyncio.wait_for(human.inbound.get(), 10)).reject(486)  # baresip's try
            incoming = await asyncio.wait_for(human.inbound.get(), 10)  # the bot's bridge
            await incoming.answer()
            return await collect_audio(incoming.audio_in(), 1.0)

        answering = asyncio.create_task(human_refuses_then_answers(), name="test-human")
        outcome = await asyncio.wait_for(
            bot.transfer(call, f"sip:human@{HOST}:{human.local_port}"), 15
        )
        assert outcome == "bridged"
        heard = await asyncio.wait_for(answering, 10)
        assert abs(dominant_frequency(heard[1600:]) - 440) < 15
        await call.hang_up()
