"""A protocol-accurate fake Twilio for tests (never shipped).

* REST: ``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` (create),
  ``…/Calls/{CallSid}.json`` (update: ``Status``, ``Twiml``) and ``…/Messages.json``,
  form-encoded with HTTP Basic auth, answered with Twilio's JSON shapes. The real
  ``twilio`` SDK talks to it once ``client.api.base_url`` points here.
* Webhooks: the Voice webhook and status callbacks, form-encoded and signed with
  ``X-Twilio-Signature`` exactly as Twilio signs them (``RequestValidator``'s algorithm).
* Media Streams: :class:`MediaStreamPhone` reads the ``<Connect><Stream>`` TwiML,
  opens the WebSocket with a signed upgrade request, sends ``connected``/``start``/
  ``media``/``dtmf``/``stop`` at 20 ms a frame (µ-law 8 kHz) and records the bot's
  ``media``, ``mark`` and ``clear`` messages, echoing marks once their audio "played".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree as ET

import httpx
import websockets
from twilio.request_validator import RequestValidator

from switchboard import g711
from switchboard_testing.voices import spoken_pcm

RATE = 8000
FRAME_PCM = RATE // 50 * 2  # 320 bytes of PCM16: 20 ms
FRAME_SEC = 0.02


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class RestRequest:
    method: str
    path: str
    params: dict[str, str]  # the last value of each field
    authorized: bool
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value, in order


@dataclass
class FakeCall:
    sid: str
    params: dict[str, str]
    status: str = "queued"
    updates: list[dict[str, str]] = field(default_factory=list)


class FakeTwilio:
    """The REST side on a loopback port, and signed webhooks towards the gateway."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[RestRequest] = []
        self.calls: dict[str, FakeCall] = {}
        self.messages: list[dict[str, str]] = []
        self._created = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What the dialer asked for.

    def wait_call(self, to: str, within_sec: float = 15.0) -> FakeCall:
        """The call created to ``to`` (blocking)."""
        deadline = time.monotonic() + within_sec
        with self._created:
            while True:
                found = [c for c in self.calls.values() if c.params.get("To") == to]
                if found:
                    return found[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no Calls.json to {to}; REST: {self.requests}")
                self._created.wait(left)

    def wait_update(self, sid: str, within_sec: float = 15.0) -> dict[str, str]:
        deadline = time.monotonic() + within_sec
        with self._created:
            while not self.calls[sid].updates:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"call {sid} was never updated")
                self._created.wait(left)
            return self.calls[sid].updates[0]

    # Signed webhooks, as Twilio sends them.

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    def post_signed(
        self, url: str, params: dict[str, str], signature: str | None = "compute"
    ) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "compute":
            signature = self.sign(url, params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return httpx.post(url, data=params, headers=headers, timeout=10)

    def status(self, call: FakeCall, status: str, **extra: str) -> httpx.Response:
        """A status callback for ``call`` to the URL the dialer gave."""
        call.status = status
        params = {
            "AccountSid": self.account_sid,
            "CallSid": call.sid,
            "CallStatus": status,
            "From": call.params.get("From", ""),
            "To": call.params.get("To", ""),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        return self.post_signed(call.params["StatusCallback"], params)

    def answering_machine(self, call: FakeCall, answered_by: str) -> httpx.Response:
        """The asynchronous AMD result, to ``AsyncAmdStatusCallback``."""
        params = {
            "AccountSid": self.account_sid,
            "CallSid": call.sid,
            "AnsweredBy": answered_by,
            "MachineDetectionDuration": "1800",
        }
        return self.post_signed(call.params["AsyncAmdStatusCallback"], params)

    def ring_inbound(self, voice_url: str, from_number: str, to_number: str) -> tuple[str, str]:
        """Twilio's Voice webhook for a call to our number: (CallSid, the TwiML answer)."""
        sid = new_sid("CA")
        params = {
            "AccountSid": self.account_sid,
            "CallSid": sid,
            "From": from_number,
            "To": to_number,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        reply = self.post_signed(voice_url, params)
        reply.raise_for_status()
        self.calls[sid] = FakeCall(sid, {**params, "Twiml": reply.text}, "in-progress")
        return sid, reply.text

    # The REST server.

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                pairs = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
                params = dict(pairs)
                lists: dict[str, list[str]] = {}
                for name, value in pairs:
                    lists.setdefault(name, []).append(value)
                auth = self.headers.get("Authorization", "")
                expected = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                authorized = auth == f"Basic {expected}"
                path = urlsplit(self.path).path
                fake.requests.append(RestRequest("POST", path, params, authorized, lists))
                if not authorized:
                    self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                prefix = f"/2010-04-01/Accounts/{fake.account_sid}/"
                if not path.startswith(prefix):
                    self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                    return
                self._json(*fake.rest(path[len(prefix) :], params))

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def rest(self, resource: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._created:
            if resource == "Calls.json":
                if not params.get("To") or not params.get("From"):
                    return 400, {"code": 21201, "message": "No 'To' number", "status": 400}
                created = FakeCall(new_sid("CA"), params)
                self.calls[created.sid] = created
                self._created.notify_all()
                return 201, self._call_json(created)
            if resource.startswith("Calls/") and resource.endswith(".json"):
                sid = resource[len("Calls/") : -len(".json")]
                call = self.calls.get(sid)
                if call is None:
                    return 404, {"code": 20404, "message": "Not found", "status": 404}
                call.updates.append(params)
                if params.get("Status") in ("completed", "canceled"):
                    call.status = params["Status"]
                self._created.notify_all()
                return 200, self._call_json(call)
            if resource == "Messages.json":
                if not params.get("To") or not params.get("Body"):
                    return 400, {"code": 21604, "message": "'To' is required", "status": 400}
                sid = new_sid("SM")
                self.messages.append({**params, "Sid": sid})
                self._created.notify_all()
                return 201, {
                    "sid": sid,
                    "account_sid": self.account_sid,
                    "to": params["To"],
                    "from": params.get("From"),
                    "body": params["Body"],
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_segments": "1",
                    "api_version": "2010-04-01",
                }
        return 404, {"code": 20404, "message": "Not found", "status": 404}

    def _call_json(self, call: FakeCall) -> dict[str, Any]:
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "to": call.params.get("To"),
            "from": call.params.get("From"),
            "status": call.status,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }


def stream_of(twiml: str) -> tuple[str, dict[str, str]]:
    """The ``<Connect><Stream url>`` and its ``<Parameter>``s."""
    root = ET.fromstring(twiml)
    stream = root.find("./Connect/Stream")
    if stream is None:
        raise AssertionError(f"no <Connect><Stream> in {twiml}")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url", ""), params


@dataclass
class Heard:
    """What the phone got from the bot, with arrival times (monotonic seconds)."""

    media: list[tuple[float, bytes]] = field(default_factory=list)  # PCM16 frames
    marks: list[tuple[float, str]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)

    def pcm(self) -> bytes:
        return b"".join(frame for _, frame in self.media)

    def turns_played(self) -> list[str]:
        """Marks of whole bot turns (a sentence's mark is ``{turn}/{index}``)."""
        return [name for _, name in self.marks if "/" not in name]

    def sentences_played(self) -> list[str]:
        return [name for _, name in self.marks if "/" in name]


class MediaStreamPhone:
    """The callee's side of one Media Stream: what Twilio does with ``<Connect><Stream>``."""

    def __init__(self, twilio: FakeTwilio, call_sid: str, twiml: str) -> None:
        self.twilio = twilio
        self.call_sid = call_sid
        self.url, self.parameters = stream_of(twiml)
        self.stream_sid = new_sid("MZ")
        self.heard = Heard()
        self._socket: Any = None
        self._chunk = 0
        self._started = 0.0
        self._receiver: asyncio.Task[None] | None = None
        self._mic: asyncio.Task[None] | None = None
        self._speech = bytearray()
        self._speech_done = asyncio.Event()

    async def connect(self, signature: str | None = "compute") -> None:
        headers = {}
        if signature == "compute":
            signature = self.twilio.sign(self.url, {})
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        self._socket = await websockets.connect(self.url, additional_headers=headers)
        self._started = time.monotonic()
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send(
            {
                "event": "start",
                "sequenceNumber": "1",
                "streamSid": self.stream_sid,
                "start": {
                    "accountSid": self.twilio.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": self.parameters,
                },
            }
        )
        self._receiver = asyncio.create_task(self._receive(), name="fake-twilio-receive")
        self._mic = asyncio.create_task(self._microphone(), name="fake-twilio-microphone")

    async def _send(self, message: dict[str, Any]) -> None:
        await self._socket.send(json.dumps(message))

    async def _receive(self) -> None:
        try:
            async for raw in self._socket:
                message = json.loads(raw)
                now = time.monotonic()
                match message.get("event"):
                    case "media":
                        ulaw = base64.b64decode(message["media"]["payload"])
                        self.heard.media.append((now, g711.decode(ulaw, "PCMU")))
                    case "mark":
                        name = message["mark"]["name"]
                        self.heard.marks.append((now, name))
                        await self._send(
                            {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}
                        )
                    case "clear":
                        self.heard.clears.append(now)
        except websockets.ConnectionClosed:
            pass

    async def _microphone(self) -> None:
        """20 ms a message in real time, as Twilio does: queued speech, else silence."""
        with contextlib.suppress(websockets.ConnectionClosed):
            await self._speak_forever()

    async def _speak_forever(self) -> None:
        start = time.monotonic()
        index = 0
        while True:
            frame = bytes(self._speech[:FRAME_PCM]).ljust(FRAME_PCM, b"\x00")
            del self._speech[:FRAME_PCM]
            if not self._speech:
                self._speech_done.set()
            self._chunk += 1
            payload = base64.b64encode(g711.encode(frame, "PCMU")).decode()
            await self._send(
                {
                    "event": "media",
                    "sequenceNumber": str(self._chunk + 1),
                    "streamSid": self.stream_sid,
                    "media": {
                        "track": "inbound",
                        "chunk": str(self._chunk),
                        "timestamp": str(int((time.monotonic() - self._started) * 1000)),
                        "payload": payload,
                    },
                }
            )
            index += 1
            delay = start + index * FRAME_SEC - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def say(self, pcm: bytes) -> None:
        """Speaks ``pcm`` (8 kHz PCM16) into the call; returns once it was sent."""
        self._speech_done.clear()
        self._speech += pcm
        await self._speech_done.wait()

    async def wait_for(self, what: str, check: Any, within_sec: float) -> Any:
        """Polls ``check`` while the microphone keeps sending."""
        deadline = time.monotonic() + within_sec
        while time.monotonic() < deadline:
            if value := check():
                return value
            if self._receiver is not None and self._receiver.done():
                raise AssertionError(f"the media socket closed before {what}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"{what} not within {within_sec:.0f} s")

    async def dtmf(self, digit: str) -> None:
        await self._send(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": str(self._chunk + 2),
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    async def hang_up(self) -> None:
        """The callee hangs up: ``stop`` on the stream, then the socket closes."""
        if self._mic is not None:
            self._mic.cancel()
            await asyncio.wait([self._mic], timeout=2)
        await self._send(
            {
                "event": "stop",
                "streamSid": self.stream_sid,
                "stop": {"accountSid": self.twilio.account_sid, "callSid": self.call_sid},
            }
        )
        await self.close()

    async def close(self) -> None:
        if self._mic is not None:
            self._mic.cancel()
            await asyncio.wait([self._mic], timeout=2)
        if self._socket is not None:
            await self._socket.close()
        if self._receiver is not None:
            await asyncio.wait([self._receiver], timeout=2)

    @property
    def closed_by_bot(self) -> bool:
        return self._receiver is not None and self._receiver.done()


def loud_frames(frames: Sequence[tuple[float, bytes]], threshold: int = 500) -> int:
    """How many frames carry more than background noise."""
    import numpy as np

    count = 0
    for _, pcm in frames:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
        if samples.size and int(np.abs(samples).max()) > threshold:
            count += 1
    return count


async def piper_voice(speech_address: str, text: str) -> bytes:
    """``text`` as 8 kHz PCM16, spoken by the Speech service (Piper): the callee's voice."""
    async with asyncio.timeout(30):
        [pcm] = await spoken_pcm(speech_address, [text], RATE, call_id="fake-twilio-callee")
    return pcm
