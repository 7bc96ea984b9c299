"""Call events across store replicas: the notifier fed by Redis pub/sub.

Every replica publishes ``call_id -> newest event seq`` on one channel after each commit
and wakes its own watchers from what it hears there, so a ``WatchCall`` on any replica
sees a change committed through any other (the events themselves are read from the
shared database, as in one process). A commit wakes local watchers at once, without
waiting for the round trip. A message missed while the subscription was down costs no
event: on every (re)subscription all watchers re-read the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from switchboard.redis_link import RedisNames
from switchboard_store.notifier import EventNotifier

log = logging.getLogger(__name__)

RETRY_SEC = 1.0
STOP_TIMEOUT_SEC = 2.0


class RedisEventNotifier(EventNotifier):
    """An :class:`EventNotifier` whose commits reach every replica's watchers."""

    def __init__(self, redis: Redis, names: RedisNames) -> None:
        super().__init__()
        self._redis = redis
        self._channel = names.events
        # Seqs not yet published, newest per call: bounded by the calls, however long
        # Redis is away.
        self._unsent: dict[str, int] = {}
        self._has_unsent = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()
        # Called after each local commit (the outbox relay looks for new jobs).
        self.on_commit: Callable[[], None] | None = None

    def start(self) -> None:
        """Starts the publish and subscribe tasks (stopped by :meth:`aclose`)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._send(), name="call-events-publish"),
                asyncio.create_task(self._listen(), name="call-events-subscribe"),
            ]

    def publish(self, latest: Mapping[str, int]) -> None:
        """Wakes local watchers now and sends the seqs to the other replicas."""
        super().publish(latest)
        if self.on_commit is not None:
            self.on_commit()
        if latest and not self.closed:
            for call_id, seq in latest.items():
                self._unsent[call_id] = max(seq, self._unsent.get(call_id, 0))
            self._has_unsent.set()

    async def _send(self) -> None:
        while True:
            await self._has_unsent.wait()
            self._has_unsent.clear()
            latest, self._unsent = self._unsent, {}
            try:
                await self._redis.publish(self._channel, json.dumps(latest))
            except RedisError as exc:
                log.warning("call events not published; retrying", extra={"error": str(exc)})
                for call_id, seq in latest.items():
                    self._unsent[call_id] = max(seq, self._unsent.get(call_id, 0))
                self._has_unsent.set()
                await asyncio.sleep(RETRY_SEC)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self._channel)
                    self.subscribed.set()
                    # Whatever was published while we were not listening: look again.
                    self._wake_everyone()
                    async for message in pubsub.listen():
                        self._heard(message)
            except RedisError as exc:
                self.subscribed.clear()
                log.warning("call events subscription lost; retrying", extra={"error": str(exc)})
                await asyncio.sleep(RETRY_SEC)

    def _heard(self, message: dict[str, Any]) -> None:
        try:
            latest = json.loads(message["data"])
            news = {str(k): int(v) for k, v in latest.items() if int(v) > self.latest_seq(str(k))}
        except (ValueError, TypeError, AttributeError):
            log.warning("call events message ignored: not a seq map")
            return
        if news:
            super().publish(news)

    def _wake_everyone(self) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.set()

    async def aclose(self) -> None:
        """Ends watches and stops the tasks (queued publishes are dropped: watchers of
        other replicas re-read on their next wake)."""
        self.close()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SEC)
            if pending:
                log.warning("call events tasks did not stop in time")
        for task in tasks:
            if task.done() and not task.cancelled():
                with contextlib.suppress(Exception):
                    task.result()
