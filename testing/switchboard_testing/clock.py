"""The one virtual clock every test moves by hand (a :class:`switchboard.clock.Clock`)."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

# The virtual clock's default wall time: a fixed, ordinary Tuesday morning.
VIRTUAL_START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
# How many times a settling test lets the event loop go round: enough for a
# chain of ready tasks (line → session → brain link → fake) to run to rest.
SETTLE_ROUNDS = 20
IDLE_ROUNDS = 50
# Float sums of 0.02 s must not miss a deadline.
_EPSILON = 1e-9


class VirtualClock:
    """A clock that only moves when a test moves it; its ``sleep`` waits for virtual time.

    Two ways to move it: :meth:`elapse` (or :meth:`advance`) by a given amount,
    waking every sleeper whose deadline has come; or :meth:`run`, which jumps
    straight to the next wake-up whenever the event loop has nothing else to do.
    """

    def __init__(self, start: datetime = VIRTUAL_START) -> None:
        self._start = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = 0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    def time(self) -> float:
        """Seconds since the epoch, like :func:`time.time` (sessions, rate limits)."""
        return self.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._count += 1
        heapq.heappush(self._sleepers, (self._mono + seconds, self._count, future))
        await future

    def advance(self, seconds: float) -> None:
        """Moves time on; every sleeper now due is released (it runs once the loop does)."""
        self._mono += seconds
        while self._sleepers and self._sleepers[0][0] <= self._mono + _EPSILON:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def elapse(self, seconds: float) -> None:
        """Lets ready tasks run, moves time on by ``seconds``, lets the woken ones run.

        Timers armed just before the call start counting from the current time.
        """
        await self.settle()
        self.advance(seconds)
        await self.settle()

    @staticmethod
    async def settle() -> None:
        """Lets every ready task run."""
        for _ in range(SETTLE_ROUNDS):
            await asyncio.sleep(0)

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Awaits ``awaitable``; whenever nothing else can run, time jumps to the next wake-up."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(IDLE_ROUNDS):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                self._wake_next()
        return task.result()

    def _wake_next(self) -> None:
        while self._sleepers:
            wake, _, future = heapq.heappop(self._sleepers)
            if future.done():
                continue
            self._mono = max(self._mono, wake)
            future.set_result(None)
            return
        raise AssertionError("deadlock: nothing runs and nothing sleeps")
