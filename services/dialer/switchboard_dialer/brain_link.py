"""A live call's ``Brain.Converse`` stream, kept open across brain restarts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from switchboard.clock import Clock
from switchboard.converse import (
    AgentTurnDone,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    UserTurn,
)
from switchboard.tasks import ReconnectLoop, run_duplex, wait_on_clock
from switchboard_dialer.ports import BrainPort, ConverseStream

log = logging.getLogger(__name__)

BACKOFF_START_SEC = 0.1
BACKOFF_MAX_SEC = 1.0

EventHandler = Callable[[ConverseResponse], Awaitable[None]]


class BrainLink:
    """Sends the call's requests to the brain and hands its events to ``on_event``.

    One stream at a time, as a send task and a receive task under one supervisor
    (:func:`switchboard.tasks.run_duplex`); the reconnect loop outside it
    (:class:`switchboard.tasks.ReconnectLoop`). When the stream fails with a
    retryable error, :meth:`run` reopens it with
    ``start{reconnect: true}`` (backoff 100 ms → 1 s, for at most
    ``reconnect_timeout_sec`` without a sign of life) and re-sends the user turn
    that has not got its ``turn_done`` yet, with the same turn id — unless it never
    left the outbox (said while the brain was away): then the outbox sends it, once.
    """

    def __init__(
        self,
        brain: BrainPort,
        call_id: str,
        on_event: EventHandler,
        reconnect_timeout_sec: float,
        clock: Clock,
        sends_dtmf: bool = False,
    ) -> None:
        self._brain = brain
        self._sends_dtmf = sends_dtmf
        self._call_id = call_id
        self._on_event = on_event
        self._clock = clock
        self._reconnect = ReconnectLoop(
            "brain",
            reconnect_timeout_sec,
            clock,
            closed_message="the brain closed the conversation stream",
            gone_message="the brain did not come back within reconnect_timeout_sec",
            backoff_start_sec=BACKOFF_START_SEC,
            backoff_max_sec=BACKOFF_MAX_SEC,
            healthy_sec=BACKOFF_MAX_SEC,
            log_extra={"call_id": call_id},
        )
        self._outbox: asyncio.Queue[ConverseRequest] = asyncio.Queue()
        self._pending_turn: UserTurn | None = None
        # The pending turn was taken from the outbox for a stream (so a new one needs it).
        self._pending_taken = False

    @property
    def reconnects(self) -> int:
        return self._reconnect.reconnects

    @property
    def awaiting_answer(self) -> bool:
        """A user turn was sent and its ``turn_done`` has not come back yet."""
        return self._pending_turn is not None

    def send(self, request: ConverseRequest) -> None:
        """Queues a request; a user turn is remembered until its ``turn_done``."""
        if isinstance(request, UserTurn):
            self._pending_turn = request
            self._pending_taken = False
        self._outbox.put_nowait(request)

    async def flush(self, timeout_sec: float) -> bool:
        """Waits until every queued request was written; False when that took longer
        than ``timeout_sec`` of the link's clock."""
        written = asyncio.ensure_future(self._outbox.join())
        try:
            await wait_on_clock(written, timeout_sec, self._clock)
        except TimeoutError:
            return False
        finally:
            written.cancel()
        return True

    async def run(self) -> None:
        """Keeps the conversation open until cancelled; raises when the brain stays away."""
        await self._reconnect.run(self._converse_once)

    async def _converse_once(self, reconnect: bool) -> None:
        stream = await self._brain.converse()
        try:
            await stream.send(ConversationStart(self._call_id, reconnect, self._sends_dtmf))
            if reconnect and self._pending_turn is not None and self._pending_taken:
                await stream.send(self._pending_turn)
            await run_duplex(
                f"call-{self._call_id}-brain", self._send_loop(stream), self._receive_loop(stream)
            )
        finally:
            await stream.close()

    async def _send_loop(self, stream: ConverseStream) -> None:
        while True:
            request = await self._outbox.get()
            if request is self._pending_turn:
                self._pending_taken = True  # it may be lost with this stream: resend then
            try:
                await stream.send(request)
            finally:
                self._outbox.task_done()

    async def _receive_loop(self, stream: ConverseStream) -> None:
        while (event := await stream.receive()) is not None:
            self._reconnect.alive()  # a stream that carried events was healthy
            pending = self._pending_turn
            if isinstance(event, AgentTurnDone) and pending is not None:
                if event.turn_id == pending.turn_id:
                    self._pending_turn = None
            await self._on_event(event)
