"""The job queue on PostgreSQL: the ``jobs`` table, claimed with ``FOR UPDATE SKIP LOCKED``.

Jobs are queued by :func:`switchboard_store.postgres_writes.queue_job` inside the
transaction of the change that calls for them (the outbox). A claim selects the oldest
due job and locks its row, skipping rows other claimers hold locked, and leases it in
the same transaction: several store replicas (or many workers on one) never hand out
one job twice and never wait on each other. Complete and fail lock the job's row and
check the lease token, so a worker whose lease expired cannot finish a re-claimed job.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from switchboard.clock import Clock
from switchboard.errors import FailedPrecondition, InvalidArgument, NotFound
from switchboard.jobs import Job, JobState
from switchboard_store.job_queue import MAX_ERROR_CHARS, MAX_LEASE_SEC, JobQueue, RetryPolicy
from switchboard_store.validation import MAX_SHORT_TEXT, list_limit, text

log = logging.getLogger(__name__)

# The oldest due pending job or expired lease of the given kinds, locked for this
# transaction; rows locked by a concurrent claim are skipped, not waited for.
_CLAIMABLE = (
    "SELECT * FROM jobs WHERE kind = ANY($1::text[]) AND ("
    " (state = 'pending' AND available_at <= $2) OR (state = 'running' AND leased_until <= $2))"
    " ORDER BY created_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED"
)


def job_from_row(row: Any) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        call_id=row["call_id"],
        state=JobState(row["state"]),
        attempts=row["attempts"],
        lease_token=row["lease_token"],
        leased_by=row["leased_by"],
        leased_until=row["leased_until"],
        available_at=row["available_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def _locked(conn: asyncpg.Connection, job_id: str) -> Job:
    row = await conn.fetchrow("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", job_id)
    if row is None:
        raise NotFound(f"no job with job_id {job_id}")
    return job_from_row(row)


def _check_lease(job: Job, lease_token: str) -> None:
    if job.state is not JobState.RUNNING or job.lease_token != lease_token:
        raise FailedPrecondition(
            f"job {job.job_id} is not leased with this token (it is {job.state.value}); "
            "its lease expired and it was claimed again, or it is finished"
        )


class PostgresJobQueue(JobQueue):
    """Jobs in the store's PostgreSQL database; times from ``clock``."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, policy: RetryPolicy | None = None):
        self._pool = pool
        self._clock = clock
        self.policy = policy or RetryPolicy()

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        text(worker, "worker", MAX_SHORT_TEXT, required=True)
        if not kinds:
            raise InvalidArgument("kinds must name at least one job kind, e.g. post_call")
        if not 0 < lease_sec <= MAX_LEASE_SEC:
            raise InvalidArgument(f"lease_sec must be above 0 and at most {MAX_LEASE_SEC:.0f}")
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            while (row := await conn.fetchrow(_CLAIMABLE, list(kinds), now)) is not None:
                job = job_from_row(row)
                if job.state is JobState.RUNNING and job.attempts >= self.policy.max_attempts:
                    # Its worker died (or overran the lease) on the last allowed try.
                    await self._bury(conn, job, now, f"lease expired on try {job.attempts}")
                    continue
                claimed = job_from_row(
                    await conn.fetchrow(
                        "UPDATE jobs SET state = $1, attempts = attempts + 1, lease_token = $2,"
                        " leased_by = $3, leased_until = $4, updated_at = $5 WHERE job_id = $6"
                        " RETURNING *",
                        JobState.RUNNING.value,
                        uuid.uuid4().hex,
                        worker,
                        now + timedelta(seconds=lease_sec),
                        now,
                        job.job_id,
                    )
                )
                log.info(
                    "job claimed",
                    extra={
                        "job_id": job.job_id,
                        "call_id": job.call_id,
                        "worker": worker,
                        "attempt": claimed.attempts,
                        "lease_expired": job.state is JobState.RUNNING,
                    },
                )
                return claimed
        return None

    async def complete(self, job_id: str, lease_token: str) -> Job:
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            job = await _locked(conn, job_id)
            if job.state is JobState.DONE and job.lease_token == lease_token:
                return job  # completed before; the reply was lost
            _check_lease(job, lease_token)
            done = job_from_row(
                await conn.fetchrow(
                    "UPDATE jobs SET state = $1, leased_until = NULL, last_error = '',"
                    " updated_at = $2 WHERE job_id = $3 RETURNING *",
                    JobState.DONE.value,
                    now,
                    job_id,
                )
            )
        log.info("job done", extra={"job_id": job_id, "call_id": job.call_id})
        return done

    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        reason = error[:MAX_ERROR_CHARS]
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            job = await _locked(conn, job_id)
            _check_lease(job, lease_token)
            if job.attempts >= self.policy.max_attempts:
                return await self._bury(conn, job, now, reason)
            delay = self.policy.delay_sec(job.attempts)
            failed = job_from_row(
                await conn.fetchrow(
                    "UPDATE jobs SET state = $1, available_at = $2, lease_token = '',"
                    " leased_until = NULL, last_error = $3, updated_at = $4 WHERE job_id = $5"
                    " RETURNING *",
                    JobState.PENDING.value,
                    now + timedelta(seconds=delay),
                    reason,
                    now,
                    job_id,
                )
            )
        log.warning(
            "job failed; retried later",
            extra={
                "job_id": job_id,
                "call_id": job.call_id,
                "attempt": job.attempts,
                "retry_in_sec": delay,
            },
        )
        return failed

    @staticmethod
    async def _bury(conn: asyncpg.Connection, job: Job, now: datetime, error: str) -> Job:
        row = await conn.fetchrow(
            "UPDATE jobs SET state = $1, lease_token = '', leased_until = NULL, last_error = $2,"
            " updated_at = $3 WHERE job_id = $4 RETURNING *",
            JobState.DEAD.value,
            error,
            now,
            job.job_id,
        )
        # The error text stays in the table (ListJobs): it may quote call data.
        log.error(
            "job dead after its last try",
            extra={"job_id": job.job_id, "call_id": job.call_id, "attempts": job.attempts},
        )
        return job_from_row(row)

    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        size = list_limit(limit)
        async with self._pool.acquire() as conn:
            if state is None:
                found = await conn.fetch(
                    "SELECT * FROM jobs ORDER BY created_at, job_id LIMIT $1", size
                )
            else:
                found = await conn.fetch(
                    "SELECT * FROM jobs WHERE state = $1 ORDER BY created_at, job_id LIMIT $2",
                    state.value,
                    size,
                )
        return [job_from_row(r) for r in found]
