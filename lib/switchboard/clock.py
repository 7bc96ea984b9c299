"""Clocks: what every waiting part takes, and the real one.

Everything that waits (call timers, playout deadlines, reconnect backoff) waits
through a :class:`Clock`'s ``sleep``, so a test on the one virtual clock
(:class:`switchboard_testing.clock.VirtualClock`) runs a 30-second conversation in
milliseconds and never flakes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]


class Clock(Protocol):
    """Wall time, a monotonic reading for deadlines, and a way to wait."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time in UTC; ``fixed_now`` pins the date (demos, reproducible tests)."""

    def __init__(self, fixed_now: datetime | None = None) -> None:
        self._fixed = fixed_now

    def now(self) -> datetime:
        return self._fixed or datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    # asyncio.sleep itself, not a wrapper: playout sleeps once per 20 ms frame per call.
    sleep = staticmethod(asyncio.sleep)
