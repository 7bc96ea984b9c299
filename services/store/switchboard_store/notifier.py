"""Wakes call watchers when a commit added events to their call (in-process).

Everything here runs on the event loop thread, so checking "is there an event beyond
what I have seen?" and registering a waiter happen with no await in between: an event
committed between a watcher's database read and its wait is never missed. With Redis
on, :class:`~switchboard_store.redis_events.RedisEventNotifier` also feeds it from
the commits of the other store replicas.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping

# Calls remembered: the ones with the most recent commits. A watcher compares with this
# only in the instant between its read and its wait, so a call forgotten after ten
# thousand newer commits loses nothing, and the store's memory stays flat however many
# calls it has served.
REMEMBERED_CALLS = 10_000


class EventNotifier:
    """The latest committed event seq per call, and per-call waits for it to move."""

    def __init__(self, remembered: int = REMEMBERED_CALLS) -> None:
        self._remembered = remembered
        self._latest: OrderedDict[str, int] = OrderedDict()
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def latest_seq(self, call_id: str) -> int:
        """The newest event seq this notifier has heard of for ``call_id`` (0: none)."""
        return self._latest.get(call_id, 0)

    def publish(self, latest: Mapping[str, int]) -> None:
        """Records ``call_id -> newest event seq`` after a commit and wakes that call's watchers.

        Must be called on the event loop thread.
        """
        for call_id, seq in latest.items():
            if seq > self._latest.get(call_id, 0):
                self._latest[call_id] = seq
                self._latest.move_to_end(call_id)
                if len(self._latest) > self._remembered:
                    self._latest.popitem(last=False)
            for waiter in self._waiters.get(call_id, ()):
                waiter.set()

    async def wait_beyond(self, call_id: str, seq: int) -> bool:
        """Waits until the call has an event after ``seq``; False once the notifier closed."""
        if self._closed:
            return False
        if self._latest.get(call_id, 0) > seq:
            return True
        waiter = asyncio.Event()
        waiters = self._waiters.setdefault(call_id, set())
        waiters.add(waiter)
        try:
            await waiter.wait()
        finally:
            waiters.discard(waiter)
            if not waiters:
                self._waiters.pop(call_id, None)
        return not self._closed

    def close(self) -> None:
        """Ends every wait (server shutdown)."""
        self._closed = True
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.set()
