"""The dialer's seam over SIP: rings, voice lines, DTMF, hang-ups, inbound calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from switchboard import domain
from switchboard.config import DialerSettings, Settings, SipSettings
from switchboard.errors import FailedPrecondition
from switchboard_dialer.telephony import create_telephony
from switchboard_dialer.telephony.base import CallerDtmf, CallerGone, CallNotConnected, PhoneLine
from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_dialer.telephony.sip.provider import SipProvider
from switchboard_testing.peer_apps import Baresip
from switchboard_testing.ports import free_rtp_range
from switchboard_testing.sip_endpoints import EndpointFactory
from switchboard_testing.sip_peers import HOST, collect_audio, dominant_frequency, tone


def _settings(**fields: object) -> SipSettings:
    low, high = free_rtp_range(20)
    defaults: dict[str, object] = {
        "bind_host": HOST,
        "bind_port": 0,
        "rtp_port_min": low,
        "rtp_port_max": high,
        "inbound_sources": [HOST],  # the test peers are the trunk
    }
    return SipSettings.model_validate(defaults | fields)


@pytest.fixture
async def provider() -> AsyncIterator[SipProvider]:
    sip = SipProvider(_settings())
    await sip.start()
    yield sip
    await sip.close()


async def test_dialling_before_the_provider_started_is_refused() -> None:
    sip = SipProvider(_settings())
    with pytest.raises(FailedPrecondition, match="not started"):
        await sip.dial("call-0", f"sip:phone@{HOST}:5999")
    await sip.close()


async def test_the_registry_gives_the_sip_provider_its_own_section_not_the_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config_file = tmp_path / "switchboard.yaml"
    config_file.write_text("dialer:\n  sip:\n    user: from-the-file\n    host: file.example\n")
    monkeypatch.setenv("SWITCHBOARD_CONFIG", str(config_file))
    monkeypatch.setenv("SWITCHBOARD__DIALER__SIP__USER", "from-the-environment")
    section = _settings(user="bot", host="trunk.example", port=5070, codecs=["PCMA"])
    sip = create_telephony(Settings(dialer=DialerSettings(telephony="sip", sip=section)))
    assert isinstance(sip, SipProvider)
    config = sip.endpoint.config
    assert (config.user, config.trunk_host, config.trunk_port) == ("bot", "trunk.example", 5070)
    assert (config.bind_port, config.codecs) == (0, ("PCMA",))
    await sip.close()


async def test_a_dialled_call_becomes_a_voice_line_with_audio_dtmf_and_hang_up(
    provider: SipProvider, make_endpoint: EndpointFactory
) -> None:
    phone = await make_endpoint(user="phone")
    ring = await provider.dial("call-1", f"sip:phone@{HOST}:{phone.local_port}")
    assert ring.sample_rate == 8000
    incoming = await asyncio.wait_for(phone.inbound.get(), 3)
    incoming.ring()
    await incoming.answer()
    line = await ring.wait_answered(5)
    assert line.is_voice and ring.ringing
    for i in range(0, 16000, 320):
        line.play_frame(tone(440, 1.0)[i : i + 320])
    incoming.send_audio(tone(1000, 1.0))
    heard = await asyncio.wait_for(collect_audio(incoming.audio_in(), 0.8), 5)
    assert abs(dominant_frequency(heard[1600:]) - 440) < 15
    frames = [await asyncio.wait_for(line.read_frame(), 2) for _ in range(30)]
    assert all(frame is not None and len(frame) == 320 for frame in frames)
    incoming.send_dtmf("5")
    assert await asyncio.wait_for(line.next_event(), 3) == CallerDtmf(digits="5")
    await incoming.hang_up()
    assert await asyncio.wait_for(line.next_event(), 3) == CallerGone(reason="caller_hangup")
    assert await asyncio.wait_for(_drain(line), 3) is None


async def test_keys_the_bot_presses_reach_the_far_end_as_rfc4733_events(
    provider: SipProvider, make_endpoint: EndpointFactory
) -> None:
    assert provider.sends_dtmf
    phone = await make_endpoint(user="menu")
    ring = await provider.dial("call-1", f"sip:menu@{HOST}:{phone.local_port}")
    incoming = await asyncio.wait_for(phone.inbound.get(), 3)
    incoming.ring()
    await incoming.answer()
    line = await ring.wait_answered(5)
    for i in range(0, 3200, 320):  # the bot is talking when it presses the keys
        line.play_frame(tone(440, 0.2)[i : i + 320])

    await line.send_dtmf("1*9#")

    async def pressed(count: int) -> str:
        keys = ""
        async for digit in incoming.digits():
            keys += digit
            if len(keys) == count:
                break
        return keys

    assert await asyncio.wait_for(pressed(4), 5) == "1*9#"
    await line.hang_up("bot_hangup")


async def _drain(line: PhoneLine) -> bytes | None:
    while (frame := await line.read_frame()) is not None:
        pass
    return frame


async def test_a_busy_number_fails_the_ring_as_busy(
    provider: SipProvider, make_endpoint: EndpointFactory
) -> None:
    phone = await make_endpoint(user="phone")
    ring = await provider.dial("call-2", f"sip:phone@{HOST}:{phone.local_port}")
    (await asyncio.wait_for(phone.inbound.get(), 3)).reject(486)
    with pytest.raises(CallNotConnected) as failed:
        await ring.wait_answered(5)
    assert failed.value.reason == "busy" and failed.value.failed


async def test_an_inbound_sip_call_is_answered_when_the_dialer_accepts_it(
    provider: SipProvider, make_endpoint: EndpointFactory
) -> None:
    taken: list[tuple[str, str]] = []

    async def take(from_number: str, to_number: str, line: PhoneLine) -> domain.Call:
        taken.append((from_number, to_number))
        await line.accept("call-3")
        return cast(domain.Call, None)

    provider.on_inbound(take)
    caller = await make_endpoint(user="+14155550123")
    call = await caller.call(f"sip:+18005550100@{HOST}:{provider.endpoint.local_port}")
    await asyncio.wait_for(call.wait_answered(), 5)
    assert taken == [("+14155550123", "+18005550100")]
    await call.hang_up()


async def test_a_refer_the_far_end_carries_out_ends_the_line_as_transferred(
    provider: SipProvider, make_endpoint: EndpointFactory, tmp_path: Path
) -> None:
    async with Baresip(tmp_path, tone_hz=440) as phone:  # baresip accepts REFER
        human = await make_endpoint(user="human")
        ring = await provider.dial("call-4", phone.uri)
        line = await ring.wait_answered(5)

        async def human_answers() -> None:
            incoming = await asyncio.wait_for(human.inbound.get(), 10)
            await incoming.answer()
            await asyncio.sleep(0.3)
            await incoming.hang_up()

        answering = asyncio.create_task(human_answers(), name="test-human-answers")
        await asyncio.wait_for(line.transfer(f"sip:human@{HOST}:{human.local_port}"), 15)
        assert await asyncio.wait_for(line.next_event(), 3) == CallerGone(reason="transferred")
        await asyncio.wait_for(answering, 10)


def test_the_inbound_settings_become_the_endpoints_inbound_policy() -> None:
    section = _settings(
        inbound_sources=["203.0.113.0/24"],
        inbound_digest=True,
        inbound_max_calls=4,
        inbound_max_calls_per_source=2,
        inbound_media_networks=["198.51.100.0/24"],
    )
    policy = SipProvider(section).endpoint.config.inbound
    assert policy == InboundPolicy(
        sources=("203.0.113.0/24",),
        digest=True,
        max_calls=4,
        max_calls_per_source=2,
        media_networks=("198.51.100.0/24",),
    )
    with pytest.raises(ValueError, match="not an IP address or network"):
        SipProvider(_settings(inbound_sources=["trunk.example.com"]))
