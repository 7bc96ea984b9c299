"""A live call's ``Brain.Converse`` stream, kept open across brain restarts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from switchboard.clock import Clock, SystemClock
from switchboard.converse import (
    AgentTurnDone,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    UserTurn,
)
from switchboard.errors import Unavailable
from switchboard.grpc_edge import is_retryable
from switchboard_dialer.ports import BrainPort, ConverseStream, Sleep
from switchboard_dialer.tasks import run_duplex

log = logging.getLogger(__name__)

BACKOFF_START_SEC = 0.1
BACKOFF_MAX_SEC = 1.0

EventHandler = Callable[[ConverseResponse], Awaitable[None]]


class BrainLink:
    """Sends the call's requests to the brain and hands its events to ``on_event``.

    One stream at a time, as a send task and a receive task under one supervisor.
    When the stream fails with a retryable error, :meth:`run` reopens it with
    ``start{reconnect: true}`` (backoff 100 ms → 1 s, for at most
    ``reconnect_timeout_sec`` without a sign of life) and re-sends the user turn
    that has not got its ``turn_done`` yet, with the same turn id.
    """

    def __init__(
        self,
        brain: BrainPort,
        call_id: str,
        on_event: EventHandler,
        reconnect_timeout_sec: float,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
    ) -> None:
        self._brain = brain
        self._call_id = call_id
        self._on_event = on_event
        self._reconnect_timeout = reconnect_timeout_sec
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._outbox: asyncio.Queue[ConverseRequest] = asyncio.Queue()
        self._pending_turn: UserTurn | None = None
        self._events_seen = 0
        self.reconnects = 0

    @property
    def awaiting_answer(self) -> bool:
        """A user turn was sent and its ``turn_done`` has not come back yet."""
        return self._pending_turn is not None

    def send(self, request: ConverseRequest) -> None:
        """Queues a request; a user turn is remembered until its ``turn_done``."""
        if isinstance(request, UserTurn):
            self._pending_turn = request
        self._outbox.put_nowait(request)

    async def flush(self, timeout_sec: float) -> bool:
        """Waits until every queued request was written; False when that took too long."""
        try:
            async with asyncio.timeout(timeout_sec):
                await self._outbox.join()
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """Keeps the conversation open until cancelled; raises when the brain stays away."""
        reconnect = False
        backoff = BACKOFF_START_SEC
        down_since: float | None = None
        while True:
            started = self._clock.monotonic()
            events_before = self._events_seen
            try:
                await self._converse_once(reconnect)
                error: Exception = Unavailable("the brain closed the conversation stream")
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                error = exc
            now = self._clock.monotonic()
            # A stream that carried events or stayed up a while was healthy: a new outage.
            if self._events_seen != events_before or now - started >= BACKOFF_MAX_SEC:
                down_since = None
                backoff = BACKOFF_START_SEC
            if down_since is None:
                down_since = now
            elif now - down_since >= self._reconnect_timeout:
                raise Unavailable("the brain did not come back within reconnect_timeout_sec")
            log.warning(
                "brain stream lost, reconnecting",
                extra={"call_id": self._call_id, "error": str(error), "backoff_sec": backoff},
            )
            await self._sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_SEC)
            reconnect = True
            self.reconnects += 1

    async def _converse_once(self, reconnect: bool) -> None:
        stream = await self._brain.converse()
        try:
            await stream.send(ConversationStart(call_id=self._call_id, reconnect=reconnect))
            if reconnect and self._pending_turn is not None:
                await stream.send(self._pending_turn)
            await run_duplex(
                f"call-{self._call_id}-brain", self._send_loop(stream), self._receive_loop(stream)
            )
        finally:
            await stream.close()

    async def _send_loop(self, stream: ConverseStream) -> None:
        while True:
            request = await self._outbox.get()
            try:
                await stream.send(request)
            finally:
                self._outbox.task_done()

    async def _receive_loop(self, stream: ConverseStream) -> None:
        while (event := await stream.receive()) is not None:
            self._events_seen += 1
            pending = self._pending_turn
            if isinstance(event, AgentTurnDone) and pending is not None:
                if event.turn_id == pending.turn_id:
                    self._pending_turn = None
            await self._on_event(event)
