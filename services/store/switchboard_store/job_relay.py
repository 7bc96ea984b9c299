"""The outbox relay: jobs queued in the database move onto their Redis streams.

A job is still written in the transaction of the change that calls for it (the call
ending queues its ``post_call`` job), so it cannot be lost between the change and the
queue. The relay, in every store replica, claims those outbox rows through the
database queue itself (two replicas never relay one row at once), adds each to its
stream and only then marks the row done. A relay that dies between the two leaves the
row leased; it is relayed again after :data:`RELAY_LEASE_SEC`, and the stream queue
keeps a job id once (:meth:`RedisJobQueue.enqueue`), so no job is lost or doubled.
While Redis cannot be reached the relay claims nothing, so rows wait in the outbox
without using up their tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from redis.exceptions import RedisError

from switchboard.errors import SwitchboardError
from switchboard_store.job_queue import JobQueue
from switchboard_store.redis_jobs import RedisJobQueue

log = logging.getLogger(__name__)

RELAY_LEASE_SEC = 30.0
STOP_TIMEOUT_SEC = 5.0


class OutboxRelay:
    """Moves due jobs of ``kinds`` from ``outbox`` (the database) to ``streams``."""

    def __init__(
        self,
        outbox: JobQueue,
        streams: RedisJobQueue,
        kinds: Sequence[str],
        worker: str,
        poll_sec: float = 1.0,
    ) -> None:
        self._outbox = outbox
        self._streams = streams
        self._kinds = list(kinds)
        self._worker = worker
        self._poll_sec = poll_sec
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """A commit may have queued a job: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_SEC)
        if not done:
            log.warning("outbox relay did not stop in time")

    async def _run(self) -> None:
        while True:
            try:
                await self.relay_due()
            except (RedisError, SwitchboardError, OSError) as exc:
                log.warning("outbox relay paused", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_sec):
                    await self._wake.wait()
            self._wake.clear()

    async def relay_due(self) -> int:
        """Relays every due outbox job; how many were moved."""
        await self._streams.ping()  # no claim while Redis is away: rows keep their tries
        moved = 0
        while (
            job := await self._outbox.claim(self._worker, self._kinds, RELAY_LEASE_SEC)
        ) is not None:
            await self._streams.enqueue(job.job_id, job.kind, job.call_id, job.traceparent)
            await self._outbox.complete(job.job_id, job.lease_token)
            moved += 1
        if moved:
            log.info("outbox jobs relayed to streams", extra={"count": moved})
        return moved
