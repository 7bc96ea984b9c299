"""The Twilio media bridge's per-frame path: the caller's 20 ms messages reach the dialer
a few frames a message (in order, none lost, tones and the hang-up after the audio before
them), and bot frames leave as Twilio media messages, dropped by ``clear``."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from switchboard import g711
from switchboard.carrier_tokens import call_token
from switchboard.config import Settings
from switchboard.media import AudioFrame, Dtmf
from switchboard.phone import ClearAudio, PhoneAttach, PhoneCallEnded, PhoneDownlink, PhoneHangUp
from switchboard.twilio_urls import media_url
from switchboard_gateway.app import create_app
from switchboard_gateway.carrier_link import AnsweredCall
from switchboard_gateway.memory_backend import InMemoryCallBackend
from switchboard_gateway.phone_link import PhoneUp
from switchboard_gateway.twilio_media import ULAW_FRAME, UPLINK_CHUNK_FRAMES, TwilioOutbox

TOKEN = "12345"
PUBLIC = "https://voice.example.com"
CALL = "call-9"


def ulaw_frame(n: int) -> bytes:
    """A distinct 20 ms µ-law frame per n (codes that decode to distinct samples)."""
    return bytes([(n * 7 + i) % 256 for i in range(ULAW_FRAME)])


class RecordingStream:
    """The dialer's end of one media stream: records what the bridge sends it."""

    def __init__(self, downlink: list[PhoneDownlink]) -> None:
        self.sent: list[PhoneUp] = []
        self._downlink = downlink
        self.hung_up = asyncio.Event()

    @property
    def number(self) -> str:
        return "+10000000000"

    async def send(self, event: PhoneUp) -> None:
        self.sent.append(event)
        if isinstance(event, PhoneHangUp):
            self.hung_up.set()

    async def events(self) -> AsyncIterator[PhoneDownlink]:
        for event in self._downlink:
            yield event
        await self.hung_up.wait()
        yield PhoneCallEnded(reason="caller_hangup")

    async def close(self) -> None:
        pass


class MediaDialer:
    def __init__(self, downlink: list[PhoneDownlink]) -> None:
        self.stream = RecordingStream(downlink)

    async def attach(self, attach: PhoneAttach, route: str = "") -> RecordingStream:
        assert attach.call_id == CALL and attach.sample_rate == 8000
        return self.stream

    async def webhook(self, *args: Any) -> int:
        raise AssertionError("no webhook expected")

    async def answer_call(self, *args: str) -> AnsweredCall:
        raise AssertionError("no inbound call expected")

    async def close(self) -> None:
        pass


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    return Settings.model_validate(
        {
            "gateway": {"api_keys": ["k" * 20]},
            "dialer": {"telephony": "twilio", "twilio": {"public_url": PUBLIC}},
        }
    )


def run_stream(
    settings: Settings, dialer: MediaDialer, messages: list[dict[str, Any]]
) -> list[Any]:
    """Opens the call's media socket as Twilio does, sends ``messages`` then ``stop``;
    returns what Twilio received."""
    app = create_app(settings, InMemoryCallBackend(), carriers=dialer)  # type: ignore[arg-type]
    url = media_url(PUBLIC, CALL)
    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, {})}
    received: list[Any] = []
    with (
        TestClient(app) as client,
        client.websocket_connect(f"/twilio/media/{CALL}", headers=headers) as socket,
    ):
        params = {"call_id": CALL, "token": call_token(TOKEN, CALL)}
        socket.send_text(json.dumps({"event": "connected"}))
        start = {"streamSid": "MZ1", "customParameters": params}
        socket.send_text(json.dumps({"event": "start", "streamSid": "MZ1", "start": start}))
        for message in messages:
            socket.send_text(json.dumps({"streamSid": "MZ1", **message}))
        socket.send_text(json.dumps({"event": "stop", "streamSid": "MZ1"}))
        try:
            while True:
                received.append(json.loads(socket.receive_text()))
        except Exception:  # the bridge closed the socket after the call ended
            pass
    return received


def media(n: int) -> dict[str, Any]:
    return {"event": "media", "media": {"payload": base64.b64encode(ulaw_frame(n)).decode()}}


def test_caller_audio_reaches_the_dialer_a_chunk_at_a_time_in_order(settings: Settings) -> None:
    dialer = MediaDialer([])
    count = 2 * UPLINK_CHUNK_FRAMES + 1
    tone_at = UPLINK_CHUNK_FRAMES + 1
    messages = [media(n) for n in range(tone_at)]
    messages.append({"event": "dtmf", "dtmf": {"digit": "5"}})
    messages += [media(n) for n in range(tone_at, count)]

    run_stream(settings, dialer, messages)

    sent = dialer.stream.sent
    assert isinstance(sent[-1], PhoneHangUp)
    audio = [e for e in sent if isinstance(e, AudioFrame)]
    pcm_size = ULAW_FRAME * 2
    sizes = [len(frame.pcm) // pcm_size for frame in audio]
    # A full chunk, then what was pending when the tone came, then the rest at the stop.
    assert sizes == [UPLINK_CHUNK_FRAMES, 1, UPLINK_CHUNK_FRAMES]
    expected = b"".join(g711.decode(ulaw_frame(n), "PCMU") for n in range(count))
    assert b"".join(frame.pcm for frame in audio) == expected
    tone = sent.index(Dtmf(digits="5"))
    before_tone = sum(len(e.pcm) for e in sent[:tone] if isinstance(e, AudioFrame))
    assert before_tone == tone_at * pcm_size  # every frame before the tone went first


def test_bot_frames_leave_as_twilio_media_and_clear_drops_the_queued_ones(
    settings: Settings,
) -> None:
    pcm = g711.decode(ulaw_frame(3), "PCMU")
    dialer = MediaDialer([AudioFrame(pcm), AudioFrame(pcm)])

    received = run_stream(settings, dialer, [])

    sent_media = [m for m in received if m.get("event") == "media"]
    assert len(sent_media) == 2
    assert sent_media[0]["streamSid"] == "MZ1"
    assert g711.decode(base64.b64decode(sent_media[1]["media"]["payload"]), "PCMU") == pcm

    outbox = TwilioOutbox()
    outbox.put('{"event": "media"}', media=True)
    outbox.put('{"event": "mark"}')
    outbox.put('{"event": "media"}', media=True)
    outbox.clear('{"event": "clear"}')
    assert outbox.dropped_media == 0

    async def drain() -> list[str]:
        return [await outbox.next(), await outbox.next()]

    assert asyncio.run(drain()) == ['{"event": "clear"}', '{"event": "mark"}']
    assert outbox.drained.is_set()


def test_a_clear_from_the_dialer_reaches_twilio(settings: Settings) -> None:
    dialer = MediaDialer([ClearAudio()])
    received = run_stream(settings, dialer, [])
    assert {"event": "clear", "streamSid": "MZ1"} in received
