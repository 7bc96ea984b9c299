"""A virtual phone as Twilio plays it: ``POST /call``, the fake Twilio's Calls.json, then a
Media Stream WebSocket to the gateway, 20 ms of µ-law a message in real time.

Lighter than the tests' ``MediaStreamPhone`` (hundreds run in one process): the
caller's messages are formatted from pre-encoded payloads, and the bot's ``media``
messages are only timed, never decoded. The caller speaks ``SPEECH_SEC`` of a
voiced sound every ``CYCLE_SEC``, at a phase given per phone so that calls do not
speak in step.

What is recorded, all in ``time.monotonic()`` seconds:

* ``turns``: the arrival time of every bot frame, grouped by bot turn (a turn ends at
  its Twilio ``mark``, or at a ``clear``);
* ``spoken``: (start, end) of each utterance: the first voiced frame sent, the last;
* ``send_late``: (time, lateness) of each of the phone's own frames (its event loop's
  health: a late phone is a load generator out of breath, not a slow system).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from switchboard import g711
from switchboard_testing.fake_twilio import FakeTwilio, new_sid, stream_of

RATE = 8000
FRAME_SEC = 0.02
SAMPLES = RATE // 50
CYCLE_SEC = 3.0
SPEECH_SEC = 0.5
CYCLE_FRAMES = round(CYCLE_SEC / FRAME_SEC)
SPEECH_FRAMES = round(SPEECH_SEC / FRAME_SEC)
_MEDIA_PREFIX = '{"event": "media"'  # how the gateway's json.dumps starts a media message


def _voiced_pcm(frames: int) -> list[bytes]:
    """A vowel-like sound (harmonics of 120 Hz, a syllable rhythm): speech to a VAD."""
    out = []
    for f in range(frames):
        values = []
        for i in range(SAMPLES):
            t = (f * SAMPLES + i) / RATE
            wave = sum(
                math.sin(2 * math.pi * 120 * k * t + k) / k for k in (1, 2, 3, 5, 6, 9, 10, 20)
            )
            envelope = 0.6 + 0.4 * math.sin(2 * math.pi * 4 * t)
            values.append(round(3500 * envelope * wave))
        out.append(b"".join(v.to_bytes(2, "little", signed=True) for v in values))
    return out


def _payload(pcm: bytes) -> str:
    return base64.b64encode(g711.encode(pcm, "PCMU")).decode()


VOICED = [_payload(pcm) for pcm in _voiced_pcm(SPEECH_FRAMES)]
SILENCE = _payload(b"\x00\x00" * SAMPLES)


@dataclass
class PhoneRecord:
    """What one phone saw during its call."""

    turns: list[list[float]] = field(default_factory=list)
    spoken: list[tuple[float, float]] = field(default_factory=list)
    send_late: list[tuple[float, float]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    connected_at: float | None = None
    failure: str | None = None


class TwilioPhone:
    """One callee on one Media Stream (see the module docstring)."""

    def __init__(self, twilio: FakeTwilio, number: str, phase_frames: int) -> None:
        self.twilio = twilio
        self.number = number
        self.phase = phase_frames % CYCLE_FRAMES
        self.record = PhoneRecord()
        self.call_id = ""
        self._socket: Any = None
        self._stream_sid = new_sid("MZ")
        self._hanging_up = False

    async def place(self, api: httpx.AsyncClient, request: dict[str, Any]) -> None:
        """``POST /call``; then, as Twilio would, the call is answered and its stream opens."""
        placed = await api.post("/call", json={**request, "phone_number": self.number})
        if placed.status_code != 201:
            raise OSError(f"POST /call answered {placed.status_code}: {placed.text[:200]}")
        self.call_id = str(placed.json().get("call_id", ""))
        call = await self._wait_created(15.0)
        await asyncio.to_thread(self.twilio.status, call, "in-progress")
        url, params = stream_of(call.params["Twiml"])
        headers = {"X-Twilio-Signature": self.twilio.sign(url, {})}
        # No permessage-deflate: a carrier's 160-byte frames gain nothing from it (and
        # compressing them cost the gateway a fifth of its time when the phone offered it).
        self._socket = await websockets.connect(url, additional_headers=headers, compression=None)
        await self._send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send_json(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self._stream_sid,
                "start": {
                    "accountSid": self.twilio.account_sid,
                    "streamSid": self._stream_sid,
                    "callSid": call.sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": RATE, "channels": 1},
                    "customParameters": params,
                },
            }
        )
        self.record.connected_at = time.monotonic()

    async def _wait_created(self, within_sec: float) -> Any:
        deadline = time.monotonic() + within_sec
        while time.monotonic() < deadline:
            # list() copies in one step under the GIL: the fake's thread may be adding.
            for call in list(self.twilio.calls.values()):
                if call.params.get("To") == self.number:
                    return call
            await asyncio.sleep(0.05)
        raise TimeoutError("the dialer never created the Twilio call")

    async def talk(self, until: float, stop: asyncio.Event) -> None:
        """Speaks and listens until ``until`` (monotonic) or ``stop``, then hangs up."""
        receiver = asyncio.create_task(self._receive(), name=f"phone-rx-{self.number}")
        try:
            await self._microphone(until, stop, receiver)
        finally:
            self._hanging_up = True
            with contextlib.suppress(Exception):
                await self._send_json({"event": "stop", "streamSid": self._stream_sid})
                await self._socket.close()
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)

    async def _microphone(
        self, until: float, stop: asyncio.Event, receiver: asyncio.Task[None]
    ) -> None:
        start = time.monotonic()
        sid = self._stream_sid
        i = 0
        while time.monotonic() < until and not stop.is_set():
            if receiver.done():
                self.record.failure = "the media socket closed before the phone hung up"
                return
            position = (i + self.phase) % CYCLE_FRAMES
            now = time.monotonic()
            self.record.send_late.append((now, now - (start + i * FRAME_SEC)))
            if position < SPEECH_FRAMES:
                payload = VOICED[position]
                if position == 0:
                    self.record.spoken.append((now, now))
                elif position == SPEECH_FRAMES - 1 and self.record.spoken:
                    self.record.spoken[-1] = (self.record.spoken[-1][0], now)
            else:
                payload = SILENCE
            i += 1
            await self._socket.send(
                f'{{"event": "media", "sequenceNumber": "{i + 1}", "streamSid": "{sid}", '
                f'"media": {{"track": "inbound", "chunk": "{i}", '
                f'"timestamp": "{round(i * 20)}", "payload": "{payload}"}}}}'
            )
            delay = start + i * FRAME_SEC - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def _receive(self) -> None:
        turns = self.record.turns
        current: list[float] | None = None
        try:
            async for raw in self._socket:
                now = time.monotonic()
                if isinstance(raw, str) and raw.startswith(_MEDIA_PREFIX):
                    if current is None:
                        current = []
                        turns.append(current)
                    current.append(now)
                    continue
                message = json.loads(raw)
                match message.get("event"):
                    case "mark":
                        name = str(message["mark"]["name"])
                        if "/" not in name:  # a whole turn was played
                            current = None
                        await self._send_json(
                            {"event": "mark", "streamSid": self._stream_sid, "mark": {"name": name}}
                        )
                    case "clear":
                        self.record.clears.append(now)
                        current = None
        except websockets.ConnectionClosed:
            pass
        if not self._hanging_up:
            self.record.failure = "the bot ended the call"

    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._socket.send(json.dumps(message))
