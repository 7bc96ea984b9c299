"""The ``twilio`` telephony provider on its own: a recording REST stand-in, media legs
attached and callbacks delivered as the gateway does over ``Dialer.Phone`` (``attach``)
and ``Dialer.CarrierWebhook``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from switchboard.carrier_tokens import call_token
from switchboard.config import TwilioSettings
from switchboard.errors import AlreadyExists, InvalidArgument, NotFound
from switchboard.phone import (
    AudioFrame,
    BotSentencePlayed,
    BotTurnDone,
    ClearAudio,
    Dtmf,
    PhoneAttach,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneHangUp,
    PhoneTransferred,
)
from switchboard_dialer.telephony.base import (
    CallerDtmf,
    CallerGone,
    CallNotConnected,
    PhoneLine,
)
from switchboard_dialer.telephony.twilio_rest import TwilioRest
from switchboard_dialer.telephony.twilio_voice import FRAME_BYTES, MediaLeg, TwilioProvider
from switchboard_testing.clock import VirtualClock

PUBLIC = "https://voice.example.com"
SECRET = "secret"


class RecordingRest(TwilioRest):
    """Twilio's REST API as a list of what was asked."""

    def __init__(self) -> None:
        self.created: list[dict[str, str]] = []
        self.updates: list[tuple[str, dict[str, str]]] = []

    async def create_call(
        self, to: str, twiml: str, status_callback: str, machine_detection: str
    ) -> str:
        self.created.append(
            {"to": to, "twiml": twiml, "status": status_callback, "amd": machine_detection}
        )
        return f"CA{len(self.created):032d}"

    async def update_call(self, sid: str, **changes: str) -> None:
        self.updates.append((sid, changes))

    async def send_message(self, to: str, body: str) -> str:
        return "SM1"


@pytest.fixture
def rest() -> RecordingRest:
    return RecordingRest()


@pytest.fixture
async def provider(
    rest: RecordingRest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TwilioProvider]:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SECRET)
    settings = TwilioSettings(account_sid="AC1", from_number="+14155550100", public_url=PUBLIC)
    provider = TwilioProvider(settings, rest=rest)
    yield provider
    await provider.close()


async def media_leg(provider: TwilioProvider, call_id: str, token: str | None = None) -> MediaLeg:
    """The gateway attaching a call's Media Stream, with the token of its TwiML."""
    token = call_token(SECRET, call_id) if token is None else token
    return await provider.attach_media(PhoneAttach("twilio", call_id, token, 8000))


async def status(
    provider: TwilioProvider, call_id: str, sid: str = "", status: str = "", amd: str = ""
) -> tuple[int, str]:
    """A status callback as the gateway forwards it: (events accepted, AMD result)."""
    form = urlencode({"CallSid": sid, "CallStatus": status, "AnsweredBy": amd}).encode()
    token = call_token(SECRET, call_id, "status")
    outcome = await provider.webhook("status", call_id, token, form)
    return outcome.accepted, outcome.answered_by


async def next_down(stream: AsyncIterator[PhoneDownlink]) -> PhoneDownlink:
    return await asyncio.wait_for(anext(stream), 1)


async def connected(
    provider: TwilioProvider,
) -> tuple[PhoneLine, MediaLeg, AsyncIterator[PhoneDownlink]]:
    ring = await provider.dial("call-1", "+14155550123")
    leg = await media_leg(provider, "call-1")
    line = await ring.wait_answered(1)
    return line, leg, leg.downlink()


async def test_dialling_asks_twilio_to_stream_to_the_gateway_with_amd(
    provider: TwilioProvider, rest: RecordingRest
) -> None:
    ring = await provider.dial("call-1", "+14155550123")
    assert ring.ringing and ring.sample_rate == 8000
    created = rest.created[0]
    assert created["to"] == "+14155550123" and created["amd"] == "Enable"
    assert 'url="wss://voice.example.com/twilio/media/call-1"' in created["twiml"]
    assert '<Parameter name="token"' in created["twiml"]
    assert created["status"].startswith(f"{PUBLIC}/twilio/status?call_id=call-1&token=")


async def test_the_media_stream_answers_the_ring_and_carries_audio_and_tones(
    provider: TwilioProvider,
) -> None:
    line, leg, down = await connected(provider)
    await leg.handle(AudioFrame(b"\x01\x00" * (FRAME_BYTES // 2)))
    assert await line.read_frame() == b"\x01\x00" * (FRAME_BYTES // 2)
    await leg.handle(Dtmf("5"))
    assert await line.next_event() == CallerDtmf("5")
    line.play_frame(b"\x00" * FRAME_BYTES)
    assert isinstance(await next_down(down), AudioFrame)
    line.sentence_played("t1", 0, "Hello.")
    assert await next_down(down) == BotSentencePlayed("t1", 0)
    await line.turn_done("t1")
    assert await next_down(down) == BotTurnDone("t1")


async def test_barge_in_drops_the_unsent_bot_frames_and_sends_clear(
    provider: TwilioProvider,
) -> None:
    line, _, down = await connected(provider)
    for _ in range(5):
        line.play_frame(b"\x00" * FRAME_BYTES)
    line.clear_audio()
    assert await next_down(down) == ClearAudio()


async def test_a_frame_of_the_wrong_size_is_refused(provider: TwilioProvider) -> None:
    _, leg, _ = await connected(provider)
    with pytest.raises(InvalidArgument):
        await leg.handle(AudioFrame(b"\x00" * 10))


async def test_a_media_stream_for_an_unknown_call_or_with_a_wrong_token_is_refused(
    provider: TwilioProvider,
) -> None:
    await provider.dial("call-1", "+14155550123")
    with pytest.raises(NotFound):
        await media_leg(provider, "nobody")
    with pytest.raises(NotFound):
        await media_leg(provider, "call-1", token=call_token(SECRET, "call-2"))
    with pytest.raises(NotFound):  # the status token is not the media token
        await media_leg(provider, "call-1", token=call_token(SECRET, "call-1", "status"))
    with pytest.raises(InvalidArgument):
        await provider.attach_media(PhoneAttach("acs", "call-1", call_token(SECRET, "call-1"), 0))


async def test_a_second_media_stream_for_the_same_call_is_refused(
    provider: TwilioProvider,
) -> None:
    await connected(provider)
    with pytest.raises(AlreadyExists):
        await media_leg(provider, "call-1")


async def test_a_busy_callee_fails_the_ring_and_the_replay_changes_nothing(
    provider: TwilioProvider, rest: RecordingRest
) -> None:
    ring = await provider.dial("call-1", "+14155550123")
    sid = "CA" + "1".rjust(32, "0")
    assert await status(provider, "call-1", sid, "ringing") == (0, "")
    assert await status(provider, "call-1", sid, "busy") == (1, "")
    with pytest.raises(CallNotConnected) as failed:
        await ring.wait_answered(1)
    assert (failed.value.reason, failed.value.failed) == ("busy", True)
    assert await status(provider, "call-1", sid, "busy") == (0, "")


async def test_a_callback_naming_another_call_sid_is_ignored(provider: TwilioProvider) -> None:
    await provider.dial("call-1", "+14155550123")
    assert await status(provider, "call-1", "CAother", "busy") == (0, "")


async def test_a_callback_with_another_calls_token_is_refused(provider: TwilioProvider) -> None:
    await provider.dial("call-1", "+14155550123")
    form = urlencode({"CallStatus": "busy"}).encode()
    with pytest.raises(NotFound):
        await provider.webhook("status", "call-1", call_token(SECRET, "call-2", "status"), form)
    with pytest.raises(InvalidArgument):
        await provider.webhook("events", "", "", b"[]")


async def test_only_the_first_answering_machine_result_is_kept(provider: TwilioProvider) -> None:
    await connected(provider)
    assert await status(provider, "call-1", amd="machine_start") == (1, "machine_start")
    assert await status(provider, "call-1", amd="human") == (0, "")


async def test_completed_ends_a_live_call_as_a_caller_hang_up(provider: TwilioProvider) -> None:
    line, _, down = await connected(provider)
    assert await status(provider, "call-1", status="completed") == (1, "")
    assert await line.next_event() == CallerGone("caller_hangup")
    with pytest.raises(StopAsyncIteration):
        await next_down(down)


async def test_the_stop_message_hangs_up_and_the_bot_hang_up_completes_the_call(
    provider: TwilioProvider, rest: RecordingRest
) -> None:
    line, leg, _ = await connected(provider)
    await leg.handle(PhoneHangUp())
    assert await line.next_event() == CallerGone("caller_hangup")
    line2, _, down2 = await _second_call(provider)
    await line2.hang_up("bot_hangup")
    assert await next_down(down2) == PhoneCallEnded("bot_hangup")
    assert rest.updates[-1][1] == {"status": "completed"}


async def _second_call(
    provider: TwilioProvider,
) -> tuple[PhoneLine, MediaLeg, AsyncIterator[PhoneDownlink]]:
    ring = await provider.dial("call-2", "+14155550124")
    leg = await media_leg(provider, "call-2")
    line = await ring.wait_answered(1)
    return line, leg, leg.downlink()


async def test_a_transfer_updates_the_live_call_with_dial(
    provider: TwilioProvider, rest: RecordingRest
) -> None:
    line, _, down = await connected(provider)
    await line.transfer("+14155550199")
    _, changes = rest.updates[-1]
    assert changes["twiml"].endswith("<Response><Dial>+14155550199</Dial></Response>")
    assert await next_down(down) == PhoneTransferred("+14155550199")
    assert await next_down(down) == PhoneCallEnded("transferred")


async def test_an_inbound_call_sid_is_taken_once(provider: TwilioProvider) -> None:
    line = await provider.accept_webhook("CAinbound")
    await line.accept("call-9")
    with pytest.raises(AlreadyExists):
        await provider.accept_webhook("CAinbound")


async def test_the_inbound_greeting_waits_for_the_media_stream(provider: TwilioProvider) -> None:
    line = await provider.accept_webhook("CAinbound")
    await line.accept("call-9")
    line.play_frame(b"\x00" * FRAME_BYTES)  # the greeting starts before Twilio connects
    leg = await media_leg(provider, "call-9")
    assert isinstance(await next_down(leg.downlink()), AudioFrame)


async def test_an_inbound_call_whose_media_never_comes_is_dropped(
    rest: RecordingRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", SECRET)
    clock = VirtualClock()
    settings = TwilioSettings(account_sid="AC1", from_number="+14155550100", public_url=PUBLIC)
    provider = TwilioProvider(settings, rest=rest, clock=clock, media_wait_sec=15)
    line = await provider.accept_webhook("CAgone")
    await line.accept("call-9")
    await clock.elapse(14)
    waiting = asyncio.ensure_future(line.next_event())
    await clock.settle()
    assert not waiting.done()  # still waiting for Twilio's socket
    await clock.elapse(2)
    assert await asyncio.wait_for(waiting, 1) == CallerGone("line_dropped")
    await provider.close()
