"""One browser softphone: a WebSocket bridged to one virtual phone on the dialer.

Three tasks under one supervisor (``switchboard.tasks.run_until_first_ends``),
the first to end cancels the others: the browser's receive and send halves and
the dialer stream's receive half; while a call lasts, a transcript feed runs
beside them and stops with them. Sends to the dialer happen in the browser's
receive task, in order. Everything for the browser goes through one
:class:`Outbox`, so a barge-in can drop the bot audio not yet sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    SwitchboardError,
    Unavailable,
)
from switchboard.media import AudioFrame
from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    ClearAudio,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneConnected,
    PhoneHangUp,
    PhoneRinging,
    PhoneTransferred,
)
from switchboard.phones import parse_e164
from switchboard.tasks import cancel_and_wait, run_until_first_ends
from switchboard_gateway import softphone_protocol as proto
from switchboard_gateway.phone_link import (
    PhoneExchange,
    PhoneStream,
)
from switchboard_gateway.softphone_protocol import ProtocolViolation

log = logging.getLogger(__name__)

REGISTER_WAIT_SEC = 10.0
CANCEL_WAIT_SEC = 2.0
# The transcript keeps following an ended call this long: its last turns are stored late.
TRANSCRIPT_LINGER_SEC = 5.0
# Bot audio waiting for a slow browser (2 s); older frames are dropped, as a carrier would.
MAX_QUEUED_AUDIO = 100


class Outbox:
    """What to send to the browser, in order; bot audio is bounded and can be dropped."""

    def __init__(self) -> None:
        self._items: deque[dict[str, Any] | bytes] = deque()
        self._audio = 0
        self._ready = asyncio.Event()
        self.dropped_audio = 0

    def message(self, data: dict[str, Any]) -> None:
        self._items.append(data)
        self._ready.set()

    def audio(self, pcm: bytes) -> None:
        if self._audio >= MAX_QUEUED_AUDIO:
            self.dropped_audio += 1
            return
        self._audio += 1
        self._items.append(pcm)
        self._ready.set()

    def clear_audio(self) -> None:
        """Barge-in: queued bot audio goes, then the browser is told to drop its own."""
        self._items = deque(item for item in self._items if not isinstance(item, bytes))
        self._audio = 0
        self.message({"type": "clear"})

    async def next(self) -> dict[str, Any] | bytes:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if isinstance(item, bytes):
            self._audio -= 1
        return item


class SoftphoneBridge:
    """Runs one ``/softphone/ws`` connection until either side ends it."""

    def __init__(self, socket: WebSocket, exchange: PhoneExchange, default_number: str) -> None:
        self._socket = socket
        self._exchange = exchange
        self._default_number = default_number
        self._outbox = Outbox()
        self._ringing: str | None = None
        self._live: str | None = None  # the connected call's id
        self._dropped_early = 0  # microphone frames sent while no call was connected
        self._transcript: asyncio.Task[None] | None = None
        self._transcript_deadline: asyncio.Timeout | None = None

    async def run(self) -> None:
        """Registers, bridges, unregisters; closes the socket with a code saying why."""
        code, reason = proto.CLOSE_NORMAL, ""
        stream: PhoneStream | None = None
        try:
            stream = await self._register()
            await self._bridge(stream)
        except ProtocolViolation as exc:
            code, reason = exc.code, exc.reason
            log.info("softphone closed for bad input", extra={"code": code, "reason": reason})
        except WebSocketDisconnect:
            pass
        except SwitchboardError as exc:
            code, reason = _close_for(exc)
            log.warning("softphone line failed", extra={"code": code, "error": exc.message})
        finally:
            if stream is not None:
                await stream.close()
                log.info(
                    "softphone unregistered",
                    extra={
                        "dropped_bot_frames": self._outbox.dropped_audio,
                        "dropped_early_frames": self._dropped_early,
                        "pii_number": stream.number,
                    },
                )
            with contextlib.suppress(Exception):  # already gone: nothing left to tell
                if self._socket.application_state is WebSocketState.CONNECTED:
                    await self._socket.close(code, proto.close_reason(reason))

    async def _register(self) -> PhoneStream:
        try:
            async with asyncio.timeout(REGISTER_WAIT_SEC):
                message = await self._receive()
        except TimeoutError as exc:
            raise ProtocolViolation(
                proto.CLOSE_POLICY, f"send register within {REGISTER_WAIT_SEC:g} s"
            ) from exc
        if message is None:
            raise WebSocketDisconnect()
        if isinstance(message, bytes):
            raise ProtocolViolation(proto.CLOSE_POLICY, "the first message must be register")
        command = proto.parse_text(message)
        if not isinstance(command, proto.Register):
            raise ProtocolViolation(proto.CLOSE_POLICY, "the first message must be register")
        number = parse_e164(command.number or self._default_number, "register.number")
        stream = await self._exchange.register(number)
        log.info("softphone registered", extra={"pii_number": stream.number})
        self._outbox.message(proto.registered(stream.number))
        return stream

    async def _bridge(self, stream: PhoneStream) -> None:
        try:
            await run_until_first_ends(
                "softphone",
                {
                    "browser-rx": self._from_browser(stream),
                    "browser-tx": self._to_browser(),
                    "dialer-rx": self._from_dialer(stream),
                },
                CANCEL_WAIT_SEC,
            )
        finally:
            if self._transcript is not None:
                await cancel_and_wait([self._transcript], CANCEL_WAIT_SEC)

    async def _receive(self) -> str | bytes | None:
        """The browser's next message; None once it has gone."""
        message = await self._socket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("bytes") is not None:
            return bytes(message["bytes"])
        return str(message.get("text") or "")

    async def _from_browser(self, stream: PhoneStream) -> None:
        while (message := await self._receive()) is not None:
            if isinstance(message, bytes):
                pcm = proto.check_audio(message)
                if self._live is not None:
                    await stream.send(AudioFrame(pcm))
                else:
                    self._dropped_early += 1
                continue
            command = proto.parse_text(message)
            match command:
                case PhoneAnswer(call_id=call_id):
                    if call_id != self._ringing:
                        self._outbox.message(proto.error("no call with this call_id is ringing"))
                        continue
                    await stream.send(command)
                case PhoneHangUp():
                    if self._ringing is not None or self._live is not None:
                        await stream.send(command)
                case proto.Register():
                    self._outbox.message(proto.error("this socket is already registered"))
                case proto.UnknownType(type=kind):
                    self._outbox.message(
                        proto.error(f"unknown type {kind!r}: expected register, answer or hangup")
                    )

    async def _to_browser(self) -> None:
        while True:
            item = await self._outbox.next()
            if isinstance(item, bytes):
                await self._socket.send_bytes(item)
            else:
                await self._socket.send_json(item)

    async def _from_dialer(self, stream: PhoneStream) -> None:
        async for event in stream.events():
            match event:
                case AudioFrame(pcm=pcm):
                    self._outbox.audio(pcm)
                case ClearAudio():
                    self._outbox.clear_audio()
                case PhoneRinging(call_id=call_id, from_number=from_number):
                    self._ringing = call_id
                    self._outbox.message(proto.ringing(call_id, from_number))
                case PhoneConnected(call_id=call_id):
                    if call_id == self._live:
                        continue  # the dialer confirms a connection more than once
                    self._ringing, self._live = None, call_id
                    self._outbox.message(proto.connected(call_id))
                    self._follow_transcript(call_id)
                case BotTurnDone():
                    self._outbox.message({"type": "bot_done"})
                case BotSaid():
                    pass  # text mode only; the transcript comes from the store
                case PhoneTransferred(target=target):
                    self._outbox.message({"type": "transferred", "target": target})
                case PhoneCallEnded(reason=reason):
                    self._ringing = self._live = None
                    self._outbox.message(proto.ended(reason))
                    if self._transcript_deadline is not None:
                        loop = asyncio.get_running_loop()
                        self._transcript_deadline.reschedule(loop.time() + TRANSCRIPT_LINGER_SEC)
        raise Unavailable("the dialer ended the phone stream")

    def _follow_transcript(self, call_id: str) -> None:
        if self._transcript is not None:
            self._transcript.cancel()  # the previous call, still lingering
        self._transcript = asyncio.create_task(
            self._feed_transcript(call_id), name=f"softphone-transcript-{call_id}"
        )

    async def _feed_transcript(self, call_id: str) -> None:
        try:
            async with asyncio.timeout(None) as deadline:
                self._transcript_deadline = deadline
                async for line in self._exchange.transcript(call_id):
                    self._outbox.message(
                        proto.transcript(line.seq, line.speaker, line.text, line.interrupted)
                    )
        except TimeoutError:
            pass
        except SwitchboardError as exc:
            log.warning("softphone transcript unavailable", extra={"error": exc.message})
            self._outbox.message(proto.error("the live transcript is unavailable"))
        finally:
            if self._transcript is asyncio.current_task():
                self._transcript_deadline = None


def _close_for(exc: SwitchboardError) -> tuple[int, str]:
    if isinstance(exc, InvalidArgument):
        return proto.CLOSE_INVALID_ARGUMENT, exc.message
    if isinstance(exc, AlreadyExists):
        return proto.CLOSE_CONFLICT, "a phone is already registered with this number"
    if isinstance(exc, FailedPrecondition):
        return proto.CLOSE_FAILED_PRECONDITION, exc.message
    return proto.CLOSE_TRY_AGAIN, "the dialer is unavailable; try again shortly"
