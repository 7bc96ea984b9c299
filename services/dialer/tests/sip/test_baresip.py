"""Our endpoint against baresip, auto-answering and playing a 440 Hz tone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard_testing.peer_apps import Baresip
from switchboard_testing.sip_endpoints import TRUNK_ON_LOOPBACK, EndpointFactory
from switchboard_testing.sip_peers import (
    HOST,
    collect_audio,
    dominant_frequency,
    read_wav,
    rms_dbfs,
    tone,
)


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
async def test_calling_baresip_we_hear_its_tone_and_it_hears_ours(
    make_endpoint: EndpointFactory, tmp_path: Path, codec: str
) -> None:
    async with Baresip(tmp_path, tone_hz=440) as baresip:
        bot = await make_endpoint(user="bot", codecs=(codec,))
        call = await bot.call(baresip.uri)
        await asyncio.wait_for(call.wait_answered(), 5)
        assert call.media is not None and call.media.codec == codec
        call.send_audio(tone(1000, 2.0))
        heard = await asyncio.wait_for(collect_audio(call.audio_in(), 1.5), 5)
        await asyncio.sleep(0.6)  # let our tone play out
        await call.hang_up()
        assert await call.ended == "local_hangup"
        assert abs(dominant_frequency(heard[3200:]) - 440) < 15
        assert rms_dbfs(heard[3200:]) > -20
        dumped = read_wav(await baresip.heard())
        assert len(dumped) > 16000
        assert abs(dominant_frequency(dumped[1600:]) - 1000) < 15


async def test_baresip_calling_us_is_answered_and_hangs_up_when_we_do(
    make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Baresip(tmp_path, tone_hz=440) as baresip:
        bot = await make_endpoint(user="agent", inbound=TRUNK_ON_LOOPBACK)  # baresip's trunk
        await baresip.command("dial", f"sip:agent@{HOST}:{bot.local_port}")
        call = await asyncio.wait_for(bot.inbound.get(), 5)
        call.ring()
        await call.answer()
        heard = await asyncio.wait_for(collect_audio(call.audio_in(), 1.0), 5)
        assert abs(dominant_frequency(heard[1600:]) - 440) < 15
        await call.hang_up()
        assert await call.ended == "local_hangup"
