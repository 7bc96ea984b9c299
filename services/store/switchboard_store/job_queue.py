"""The store's durable job queue: what a backend must offer, and its retry policy.

Jobs are queued by the backend itself, in the transaction that calls for them (see
:mod:`switchboard.jobs`); this interface is the worker side. ``SqliteJobQueue`` keeps
them in a table of the same file, ``PostgresJobQueue`` in the shared database. With
Redis on, :class:`~switchboard_store.redis_jobs.RedisJobQueue` serves the workers from
streams with a consumer group (``claim`` is ``XAUTOCLAIM`` past the visibility timeout,
then ``XREADGROUP``; ``complete`` is ``XACK``; ``fail`` re-adds the entry after its
back-off or moves it to a dead-letter stream) and the database table stays the outbox
that :mod:`~switchboard_store.job_relay` empties into it. Workers only see the ``Store``
RPCs, so they do not change with the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.jobs import Job, JobState

MAX_LEASE_SEC = 3600.0
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RetryPolicy:
    """How often a job is tried, and how long it waits after a failure."""

    max_attempts: int = 5
    backoff_sec: float = 5.0
    max_backoff_sec: float = 600.0

    def delay_sec(self, attempts: int) -> float:
        """The wait before the next try after ``attempts`` tries: doubling, capped."""
        return float(min(self.backoff_sec * 2 ** max(attempts - 1, 0), self.max_backoff_sec))


class JobQueue(ABC):
    """Claim, complete, fail and list durable jobs.

    Raises :mod:`switchboard.errors` types: ``NotFound`` for an unknown job,
    ``FailedPrecondition`` when the caller's lease is no longer the job's (it expired
    and another worker claimed the job), ``InvalidArgument`` for bad input.
    """

    @abstractmethod
    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        """The oldest job of ``kinds`` that is due or whose lease expired, now leased to
        ``worker`` for ``lease_sec``; None when there is none. A job whose lease expired
        after its last allowed attempt goes dead instead."""

    @abstractmethod
    async def complete(self, job_id: str, lease_token: str) -> Job:
        """Marks the job done. Completing it again with the same token is harmless."""

    @abstractmethod
    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        """Gives the job back: pending again after a back-off, or dead after the last try."""

    @abstractmethod
    async def replay(self, job_id: str) -> Job:
        """Gives a dead job back to the workers, its tries counted from zero;
        FailedPrecondition when it is not dead."""

    @abstractmethod
    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """Jobs in ``state`` (all when None), oldest first: what an operator looks at."""
