"""A protocol-accurate fake of Azure Communication Services, for tests (never shipped).

It answers the Call Automation REST calls the real SDK makes (create, answer,
transfer, terminate, DTMF out), the SMS REST call and the JWKS of its signing key;
it signs its callbacks as ACS does (RS256 JWT, ``Authorization: Bearer``), delivers
Event Grid ``IncomingCall`` events, and plays the phone's side of each call: it
dials back into the media URL it was given (with a JWT), streams a Piper-spoken
callee as ``AudioData`` in real time and records what the bot says (``AudioData``,
``StopAudio``). Point the SDK at it with ``acs.endpoint = fake.endpoint``.

It runs in the test's event loop (:meth:`FakeAcs.start`); the signing key comes from
:class:`AcsSigner`, kept for a whole test session because the gateway caches JWKS.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import uvicorn
import websockets
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RATE = 16000
FRAME_BYTES = RATE // 50 * 2
FRAME_SEC = 0.02
ISSUER = "https://acscallautomation.communication.azure.com"
RESOURCE_ID = "00000000-0000-0000-0000-0000000000ac"
EVENT_PREFIX = "Microsoft.Communication."


class AcsSigner:
    """A local RSA key that signs ACS-style JWTs, and its JWKS."""

    def __init__(self, resource_id: str = RESOURCE_ID) -> None:
        self.resource_id = resource_id
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def token(
        self,
        *,
        expires_in: float = 300,
        audience: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": audience or self.resource_id,
            "iat": now,
            "nbf": now - 5,
            "exp": now + int(expires_in),
        }
        return jwt.encode(claims, key or self._key, algorithm="RS256", headers={"kid": self.kid})


@dataclass
class CalleeLine:
    """One thing the phone says: ``pcm`` once the bot has been quiet ``after_quiet_sec``
    (a turn), or ``barge_in_after_sec`` into the bot's speech (an interruption)."""

    pcm: bytes
    after_quiet_sec: float = 1.2
    barge_in_after_sec: float | None = None


@dataclass
class Callee:
    """What the fake phone does on a call: its lines, touch tones, transfer outcomes."""

    lines: list[CalleeLine] = field(default_factory=list)
    dtmf_after_greeting: str = ""
    answer_delay_sec: float = 0.3


@dataclass
class BotEvent:
    kind: str  # "audio" | "stop"
    at: float


# sendDtmfTones names its tones (the SDK's DtmfTone values).
_NUMBERS = "zero one two three four five six seven eight nine"
_TONE_DIGITS = {
    **dict(zip(_NUMBERS.split(), "0123456789", strict=True)),
    "asterisk": "*",
    "pound": "#",
    **{letter.lower(): letter for letter in "ABCD"},
}


@dataclass
class FakeCall:
    """One call as the fake saw it."""

    connection_id: str
    callback_url: str
    media_url: str
    target: str
    direction: str
    callee: Callee
    bot_audio: bytearray = field(default_factory=bytearray)
    bot_events: list[BotEvent] = field(default_factory=list)
    transfers: list[str] = field(default_factory=list)
    transfer_settled_at: float | None = None
    hung_up_by_bot: bool = False
    media_closed: asyncio.Event = field(default_factory=asyncio.Event)
    barged_at: float | None = None
    dtmf_sent: str = ""
    # Touch tones the bot sent through sendDtmfTones, as digits, and to whom.
    tones_from_bot: str = ""
    tones_to: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    # Speech and tones a driver asks for (:meth:`say`, :meth:`press`), besides the Callee's.
    mouth: deque[bytes] = field(default_factory=deque)
    said: asyncio.Event = field(default_factory=asyncio.Event)
    socket: Any = None

    async def say(self, pcm: bytes) -> None:
        """Speaks ``pcm`` (16 kHz PCM16) into the call now; returns once it was sent."""
        self.said.clear()
        self.mouth.append(pcm)
        await self.said.wait()

    async def press(self, digits: str) -> None:
        """Touch tones from the phone (``DtmfData``)."""
        if self.socket is not None:
            await self.socket.send(json.dumps({"kind": "DtmfData", "dtmfData": {"data": digits}}))

    @property
    def bot_frames(self) -> int:
        return sum(1 for e in self.bot_events if e.kind == "audio")

    def stops(self) -> list[float]:
        return [e.at for e in self.bot_events if e.kind == "stop"]


class FakeAcs:
    """The fake ACS resource: REST on ``endpoint``, callbacks and media into the gateway."""

    def __init__(self, port: int, signer: AcsSigner, gateway_url: str) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self.signer = signer
        self.gateway_url = gateway_url
        self.calls: dict[str, FakeCall] = {}
        self.sms: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.reachable_transfer_targets: set[str] = set()
        self.next_callee = Callee()
        self.contexts: dict[str, str] = {}  # incomingCallContext → caller number
        self.delivered: list[list[dict[str, Any]]] = []  # Event Grid deliveries, in order
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._http = httpx.AsyncClient(timeout=10)

    # Lifecycle.

    async def start(self) -> None:
        routes = [Route("/{path:path}", self._route, methods=["GET", "POST", "DELETE"])]
        app = Starlette(routes=routes)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(), name="fake-acs")
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no started event
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        for call in self.calls.values():
            if call.task is not None:
                call.task.cancel()
                with contextlib.suppress(BaseException):
                    await call.task
        if self._server is not None:
            self._server.should_exit = True
        if self._serving is not None:
            await self._serving
        await self._http.aclose()

    async def __aenter__(self) -> FakeAcs:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # REST.

    async def _route(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        self.requests.append((request.method, path))
        body = await request.body()
        payload = json.loads(body) if body else {}
        if path == "/calling/keys":
            return JSONResponse(self.signer.jwks())
        if request.method == "POST" and path == "/calling/callConnections":
            return self._create(payload)
        if request.method == "POST" and path == "/calling/callConnections:answer":
            return self._answer(payload)
        if request.method == "POST" and path == "/sms":
            return self._send_sms(payload)
        action = re.fullmatch(r"/calling/callConnections/([^/:]+)(?::(\w+))?", path)
        call = self.calls.get(action.group(1)) if action else None
        if action is None or call is None:
            return JSONResponse({"error": {"code": "8522", "message": "not found"}}, 404)
        verb = action.group(2) or ("hangup" if request.method == "DELETE" else "")
        if verb in ("terminate", "hangup"):
            call.hung_up_by_bot = True
            asyncio.get_running_loop().create_task(self._callback(call, "CallDisconnected"))
            return Response(status_code=204)
        if verb == "transferToParticipant":
            target = payload["targetParticipant"]["phoneNumber"]["value"]
            context = payload.get("operationContext", "")
            call.transfers.append(target)
            ok = target in self.reachable_transfer_targets
            asyncio.get_running_loop().create_task(self._settle_transfer(call, ok, context))
            return JSONResponse({"operationContext": context}, 202)
        if verb == "sendDtmfTones":
            call.tones_from_bot += "".join(_TONE_DIGITS[tone] for tone in payload["tones"])
            call.tones_to.append(payload["targetParticipant"]["phoneNumber"]["value"])
            return JSONResponse({"operationContext": payload.get("operationContext", "")}, 202)
        return JSONResponse({"error": {"code": "8523", "message": "unsupported"}}, 400)

    def _properties(self, call: FakeCall, state: str) -> dict[str, Any]:
        return {
            "callConnectionId": call.connection_id,
            "serverCallId": f"server-{call.connection_id}",
            "callConnectionState": state,
            "callbackUri": call.callback_url,
            "targets": [{"rawId": f"4:{call.target}", "phoneNumber": {"value": call.target}}],
            "correlationId": str(uuid.uuid4()),
        }

    def _new_call(self, payload: dict[str, Any], target: str, direction: str) -> FakeCall:
        options = payload.get("mediaStreamingOptions") or payload.get("mediaStreamingConfiguration")
        call = FakeCall(
            connection_id=f"conn-{next(self._ids)}-{uuid.uuid4().hex[:8]}",
            callback_url=payload["callbackUri"],
            media_url=(options or {}).get("transportUrl", ""),
            target=target,
            direction=direction,
            callee=self.next_callee,
        )
        self.calls[call.connection_id] = call
        call.task = asyncio.get_running_loop().create_task(
            self._phone(call), name=f"fake-phone-{call.connection_id}"
        )
        return call

    def _create(self, payload: dict[str, Any]) -> Response:
        target = payload["targets"][0]["phoneNumber"]["value"]
        call = self._new_call(payload, target, "outbound")
        return JSONResponse(self._properties(call, "connecting"), 201)

    def _answer(self, payload: dict[str, Any]) -> Response:
        caller = self.contexts.get(payload.get("incomingCallContext", ""))
        if caller is None:
            return JSONResponse({"error": {"code": "8523", "message": "unknown context"}}, 400)
        call = self._new_call(payload, caller, "inbound")
        return JSONResponse(self._properties(call, "connecting"), 200)

    def _send_sms(self, payload: dict[str, Any]) -> Response:
        self.sms.append(payload)
        results = [
            {
                "to": recipient["to"],
                "messageId": f"sms-{uuid.uuid4().hex}",
                "httpStatusCode": 202,
                "successful": True,
            }
            for recipient in payload.get("smsRecipients", [])
        ]
        return JSONResponse({"value": results}, 202)

    # Callbacks and Event Grid.

    def event(self, call: FakeCall, kind: str, context: str = "") -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "source": f"calling/callConnections/{call.connection_id}",
            "type": EVENT_PREFIX + kind,
            "specversion": "1.0",
            "time": "2026-12-01T00:00:00Z",
            "datacontenttype": "application/json",
            "data": {
                "callConnectionId": call.connection_id,
                "serverCallId": f"server-{call.connection_id}",
                "correlationId": "c",
                "operationContext": context,
                "resultInformation": {"code": 200, "subCode": 0, "message": ""},
            },
        }

    async def post_callback(
        self, call: FakeCall, events: list[dict[str, Any]], token: str | None = "signed"
    ) -> httpx.Response:
        headers = {}
        if token == "signed":
            headers["Authorization"] = f"Bearer {self.signer.token()}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self._http.post(call.callback_url, json=events, headers=headers)

    async def _callback(self, call: FakeCall, kind: str, context: str = "") -> None:
        await self.post_callback(call, [self.event(call, kind, context)])

    async def _settle_transfer(self, call: FakeCall, ok: bool, context: str) -> None:
        await asyncio.sleep(0.2)
        call.transfer_settled_at = time.monotonic()
        await self._callback(call, "CallTransferAccepted" if ok else "CallTransferFailed", context)
        if ok:
            await self._callback(call, "CallDisconnected")

    async def ring_in(self, caller: str, to: str, secret: str) -> httpx.Response:
        """An inbound call from ``caller``: Event Grid delivers ``IncomingCall`` to the gateway."""
        context = f"ctx-{uuid.uuid4().hex}"
        self.contexts[context] = caller
        event = {
            "id": str(uuid.uuid4()),
            "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/"
            "communicationServices/z",
            "subject": f"/phonenumber/{to.lstrip('+')}",
            "eventType": "Microsoft.Communication.IncomingCall",
            "eventTime": "2026-12-01T00:00:00Z",
            "dataVersion": "1.0",
            "data": {
                "to": {"kind": "phoneNumber", "rawId": f"4:{to}", "phoneNumber": {"value": to}},
                "from": {
                    "kind": "phoneNumber",
                    "rawId": f"4:{caller}",
                    "phoneNumber": {"value": caller},
                },
                "serverCallId": f"server-{uuid.uuid4().hex}",
                "callerDisplayName": "",
                "incomingCallContext": context,
                "correlationId": str(uuid.uuid4()),
            },
        }
        return await self.deliver_events([event], secret)

    async def deliver_events(self, events: list[dict[str, Any]], secret: str) -> httpx.Response:
        self.delivered.append(events)
        return await self._http.post(
            f"{self.gateway_url}/acs/events", params={"secret": secret}, json=events
        )

    # The phone.

    async def _phone(self, call: FakeCall) -> None:
        """Answers, connects the media socket, talks, and hangs up when told to."""
        await asyncio.sleep(call.callee.answer_delay_sec)
        await self._callback(call, "CallConnected")
        headers = {
            "Authorization": f"Bearer {self.signer.token()}",
            "x-ms-call-connection-id": call.connection_id,
            "x-ms-call-correlation-id": "c",
        }
        try:
            async with websockets.connect(call.media_url, additional_headers=headers) as socket:
                call.socket = socket
                await socket.send(
                    json.dumps(
                        {
                            "kind": "AudioMetadata",
                            "audioMetadata": {
                                "subscriptionId": call.connection_id,
                                "encoding": "PCM",
                                "sampleRate": RATE,
                                "channels": 1,
                                "length": FRAME_BYTES,
                            },
                        }
                    )
                )
                listener = asyncio.create_task(self._listen(call, socket), name="fake-ear")
                try:
                    await self._talk(call, socket)
                    await listener
                finally:
                    listener.cancel()
        finally:
            call.media_closed.set()

    async def _listen(self, call: FakeCall, socket: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in socket:
                message = json.loads(raw)
                kind = message.get("kind") or message.get("Kind")
                now = time.monotonic()
                if kind == "AudioData":
                    data = message.get("audioData") or message.get("AudioData") or {}
                    call.bot_audio += base64.b64decode(data["data"])
                    call.bot_events.append(BotEvent("audio", now))
                elif kind == "StopAudio":
                    call.bot_events.append(BotEvent("stop", now))

    def _bot_quiet_for(self, call: FakeCall) -> float:
        if not call.bot_events:
            return 0.0
        return time.monotonic() - call.bot_events[-1].at

    def _bot_talking_since(self, call: FakeCall) -> float | None:
        """When the bot's current run of audio started (None when it is quiet)."""
        if not call.bot_events or self._bot_quiet_for(call) > 0.1:
            return None
        start = call.bot_events[-1].at
        for event in reversed(call.bot_events):
            if event.kind != "audio" or start - event.at > 0.1:
                break
            start = event.at
        return start

    async def _talk(self, call: FakeCall, socket: Any) -> None:
        """One frame every 20 ms (silence between lines), as a phone streams."""
        pending = list(call.callee.lines)
        speaking = b""
        next_at = time.monotonic()
        dtmf_due = bool(call.callee.dtmf_after_greeting)
        said_until = 0.0  # when the phone last spoke: it waits for the bot's reply
        while True:
            if not speaking and call.mouth:
                speaking = call.mouth.popleft()
            if not speaking and pending:
                line = pending[0]
                if line.barge_in_after_sec is not None:
                    since = self._bot_talking_since(call)
                    if since is not None and time.monotonic() - since >= line.barge_in_after_sec:
                        speaking, call.barged_at = line.pcm, time.monotonic()
                        pending.pop(0)
                elif (
                    call.bot_events
                    and call.bot_events[-1].at > said_until  # the bot answered our last line
                    and self._bot_quiet_for(call) >= line.after_quiet_sec
                ):
                    speaking = line.pcm
                    pending.pop(0)
            if dtmf_due and call.bot_events and self._bot_quiet_for(call) >= 1.0:
                dtmf_due = False
                call.dtmf_sent = call.callee.dtmf_after_greeting
                await socket.send(
                    json.dumps(
                        {"kind": "DtmfData", "dtmfData": {"data": call.callee.dtmf_after_greeting}}
                    )
                )
            frame, speaking = speaking[:FRAME_BYTES], speaking[FRAME_BYTES:]
            if frame:
                said_until = time.monotonic()
                if not speaking and not call.mouth:
                    call.said.set()
            frame = frame.ljust(FRAME_BYTES, b"\0")
            try:
                await socket.send(
                    json.dumps(
                        {
                            "kind": "AudioData",
                            "audioData": {
                                "timestamp": "2026-12-01T00:00:00Z",
                                "participantRawID": f"4:{call.target}",
                                "data": base64.b64encode(frame).decode(),
                                "silent": False,
                            },
                        }
                    )
                )
            except websockets.ConnectionClosed:
                call.said.set()  # nobody hears it any more
                return
            next_at += FRAME_SEC
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def hang_up(self, call: FakeCall) -> None:
        """The callee hangs up: CallDisconnected, then the media socket closes."""
        await self._callback(call, "CallDisconnected")
        if call.task is not None:
            call.task.cancel()
            with contextlib.suppress(BaseException):
                await call.task

    def only_call(self) -> FakeCall:
        assert len(self.calls) == 1, f"expected one call, got {len(self.calls)}"
        return next(iter(self.calls.values()))
