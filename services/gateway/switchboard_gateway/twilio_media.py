"""One Twilio Media Stream bridged to the dialer's ``Dialer.Phone`` stream.

Twilio sends ``connected``, ``start`` (with our ``customParameters``: the call id
and its token), then ``media`` (base64 µ-law, 8 kHz), ``dtmf``, ``mark`` and
``stop``. We send ``media`` (the bot's frames, µ-law), ``clear`` the instant the
dialer reports a barge-in (queued bot frames not yet written are dropped with it),
and a ``mark`` after each bot sentence (``{turn_id}/{index}``) and turn (``{turn_id}``),
so Twilio tells when the caller heard it.
Codecs are converted here, and only here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections import deque
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard import g711
from switchboard.carrier_tokens import ROUTE_PARAM, check_call_token, routed_address
from switchboard.config import TwilioSettings
from switchboard.errors import SwitchboardError
from switchboard.media import AudioFrame, Dtmf
from switchboard.phone import (
    BotSentencePlayed,
    BotTurnDone,
    ClearAudio,
    PhoneAttach,
    PhoneCallEnded,
    PhoneHangUp,
    PhoneTransferred,
)
from switchboard.tasks import run_until_first_ends
from switchboard_gateway.carrier_link import CarrierLink
from switchboard_gateway.phone_link import PhoneStream
from switchboard_gateway.twilio_link import MEDIA_SAMPLE_RATE, PROVIDER

log = logging.getLogger(__name__)

ULAW_FRAME = MEDIA_SAMPLE_RATE // 50  # 160 bytes: 20 ms
FRAME_SEC = 0.020
START_WAIT_SEC = 10.0
CANCEL_WAIT_SEC = 2.0
# The caller's audio goes to the dialer this many 20 ms frames a message: it only feeds
# recognition, and every message is a gRPC hop on the dialer and the speech service.
# 60 ms adds 20 ms on average before the VAD hears a frame (speech onset, end of turn).
UPLINK_CHUNK_FRAMES = 3
# After a chunk left, the socket is read again one chunk period later (plus this margin
# for arrival jitter), so a chunk's frames are read together: uvicorn pauses and resumes
# the socket's reader around every read that empties its queue (two epoll calls).
READ_MARGIN_SEC = 0.010
MAX_QUEUED_MEDIA = 100  # 2 s of bot audio for a slow socket; newer frames are dropped
CLOSE_POLICY = 1008
FLUSH_WAIT_SEC = 2.0
HANGUP_WAIT_SEC = 3.0
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class TwilioOutbox:
    """Messages for Twilio in order, already serialised; bot media is bounded and
    dropped on ``clear``."""

    def __init__(self) -> None:
        self._items: deque[tuple[bool, str]] = deque()  # (is media, the JSON text)
        self._ready = asyncio.Event()
        self._media = 0
        self.dropped_media = 0
        self.drained = asyncio.Event()  # set whenever the last queued message was sent

    def put(self, text: str, media: bool = False) -> None:
        if media:
            if self._media >= MAX_QUEUED_MEDIA:
                self.dropped_media += 1
                return
            self._media += 1
        self._items.append((media, text))
        self._ready.set()
        self.drained.clear()

    def clear(self, clear_message: str) -> None:
        """Barge-in: unsent media goes, and ``clear`` goes ahead of everything else."""
        self._items = deque(item for item in self._items if not item[0])
        self._media = 0
        self._items.appendleft((False, clear_message))
        self._ready.set()
        self.drained.clear()

    async def next(self) -> str:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        media, text = self._items.popleft()
        if media:
            self._media -= 1
        if not self._items:
            self.drained.set()
        return text


class TwilioMediaBridge:
    """Runs one ``/twilio/media/{call_id}`` socket until Twilio or the dialer ends it."""

    def __init__(
        self,
        socket: WebSocket,
        dialer: CarrierLink,
        call_id: str,
        settings: TwilioSettings,
        chunk_frames: int = UPLINK_CHUNK_FRAMES,
    ) -> None:
        self._socket = socket
        self._dialer = dialer
        self._call_id = call_id
        self._token = ""  # the call's media token, from ``start``
        self._route = ""  # the dialer replica running the call, from ``start``
        self._settings = settings
        self._outbox = TwilioOutbox()
        self._stream_sid = ""
        self._media_head = ""  # a media message up to its payload, once streamSid is known
        self._pending = b""  # µ-law bytes not sent to the dialer yet
        self._chunk_bytes = ULAW_FRAME * max(1, chunk_frames)
        self._chunk_sec = max(1, chunk_frames) * FRAME_SEC
        self._next_read: float | None = None  # loop time the next chunk is read at
        self._dialer_done = asyncio.Event()

    async def run(self) -> None:
        stream: PhoneStream | None = None
        try:
            if not await self._wait_start():
                return
            attach = PhoneAttach(PROVIDER, self._call_id, self._token, MEDIA_SAMPLE_RATE)
            stream = await self._dialer.attach(attach, self._route)
            await run_until_first_ends(
                "twilio-media",
                {
                    "twilio-rx": self._from_twilio(stream),
                    "twilio-tx": self._to_twilio(),
                    "dialer-rx": self._from_dialer(stream),
                },
                CANCEL_WAIT_SEC,
            )
        except WebSocketDisconnect:
            pass
        except SwitchboardError as exc:
            log.warning(
                "twilio media bridge failed", extra={"call_id": self._call_id, "error": exc.message}
            )
        finally:
            if stream is not None:
                await stream.close()
            log.info(
                "twilio media stream closed",
                extra={"call_id": self._call_id, "dropped_media": self._outbox.dropped_media},
            )
            with contextlib.suppress(Exception):
                if self._socket.application_state is WebSocketState.CONNECTED:
                    await self._socket.close()

    async def _receive(self) -> dict[str, Any] | None:
        message = await self._socket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        try:
            data = json.loads(message.get("text") or "")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def _wait_start(self) -> bool:
        """Reads up to ``start``; False (socket closed) when its call token is wrong."""
        try:
            async with asyncio.timeout(START_WAIT_SEC):
                while (data := await self._receive()) is not None:
                    if data.get("event") == "start":
                        break
                else:
                    return False
        except TimeoutError:
            await self._socket.close(CLOSE_POLICY, "no start")
            return False
        start = data.get("start") or {}
        params = start.get("customParameters") or {}
        token = str(params.get("token", ""))
        secret = self._settings.auth_token
        route = routed_address(secret, self._call_id, str(params.get(ROUTE_PARAM, "")))
        if (
            params.get("call_id") != self._call_id
            or not check_call_token(secret, self._call_id, token)
            or route is None
        ):
            log.warning("twilio media stream refused: bad call token")
            await self._socket.close(CLOSE_POLICY, "bad token")
            return False
        self._stream_sid = str(data.get("streamSid") or start.get("streamSid") or "")
        sid = json.dumps(self._stream_sid)
        self._media_head = f'{{"event": "media", "streamSid": {sid}, "media": {{"payload": "'
        self._token, self._route = token, route
        return True

    async def _from_twilio(self, stream: PhoneStream) -> None:
        while (data := await self._receive()) is not None:
            match data.get("event"):
                case "media":
                    if (pcm := self._caller_audio(data.get("media") or {})) is not None:
                        await stream.send(AudioFrame(pcm))
                        await asyncio.sleep(self._until_next_chunk())
                case "dtmf":
                    digit = str((data.get("dtmf") or {}).get("digit", ""))
                    if digit in DTMF_DIGITS and digit:
                        await self._send_pending(stream)  # the audio before the tone first
                        await stream.send(Dtmf(digits=digit))
                case "mark":
                    name = str((data.get("mark") or {}).get("name", ""))
                    log.debug("twilio played", extra={"call_id": self._call_id, "mark": name})
                case "stop":
                    await self._send_pending(stream)
                    await stream.send(PhoneHangUp(reason="caller_hangup"))
                    # The hang-up must reach the dialer before the stream is cut: it
                    # ends its side once it has taken it (a backlog of frames may be ahead).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(HANGUP_WAIT_SEC):
                            await self._dialer_done.wait()
                    return

    def _caller_audio(self, media: dict[str, Any]) -> bytes | None:
        """Twilio's payload (usually 20 ms) added to what is pending; once a chunk of
        ``chunk_frames`` whole frames is there, all whole frames pending as PCM16."""
        try:
            ulaw = self._pending + base64.b64decode(str(media.get("payload", "")), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(ulaw) < self._chunk_bytes:
            self._pending = ulaw
            return None
        return self._whole_frames(ulaw)

    def _until_next_chunk(self) -> float:
        """How long the socket can wait before the next chunk's frames are all there;
        0 when reading fell behind (it catches up)."""
        now = asyncio.get_running_loop().time()
        if self._next_read is None:
            self._next_read = now + self._chunk_sec + READ_MARGIN_SEC
        else:
            self._next_read = max(self._next_read + self._chunk_sec, now)
        return self._next_read - now

    def _whole_frames(self, ulaw: bytes) -> bytes | None:
        whole = len(ulaw) - len(ulaw) % ULAW_FRAME
        self._pending = ulaw[whole:]
        return g711.decode(ulaw[:whole], "PCMU") if whole else None

    async def _send_pending(self, stream: PhoneStream) -> None:
        if (pcm := self._whole_frames(self._pending)) is not None:
            await stream.send(AudioFrame(pcm))

    async def _to_twilio(self) -> None:
        while True:
            await self._socket.send_text(await self._outbox.next())

    async def _from_dialer(self, stream: PhoneStream) -> None:
        try:
            await self._follow_dialer(stream)
        finally:
            self._dialer_done.set()

    async def _follow_dialer(self, stream: PhoneStream) -> None:
        async for event in stream.events():
            match event:
                case AudioFrame(pcm=pcm):
                    payload = base64.b64encode(g711.encode(pcm, "PCMU")).decode("ascii")
                    self._outbox.put(f'{self._media_head}{payload}"}}}}', media=True)
                case ClearAudio():
                    self._outbox.clear(self._message("clear"))
                case BotSentencePlayed(turn_id=turn_id, index=index):
                    name = f"{turn_id}/{index}"
                    self._outbox.put(self._message("mark", mark={"name": name}))
                case BotTurnDone(turn_id=turn_id):
                    self._outbox.put(self._message("mark", mark={"name": turn_id}))
                case PhoneTransferred():
                    pass  # Twilio ends the stream itself once the <Dial> takes over
                case PhoneCallEnded():
                    await self._flush()
                    return

    async def _flush(self) -> None:
        """Sends what is queued (the goodbye) before the socket closes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(FLUSH_WAIT_SEC):
                await self._outbox.drained.wait()

    def _message(self, event: str, **body: Any) -> str:
        return json.dumps({"event": event, "streamSid": self._stream_sid, **body})
