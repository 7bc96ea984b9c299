"""The job queue on PostgreSQL: the ``jobs`` table, claimed with ``FOR UPDATE SKIP LOCKED``.

Jobs are queued by :func:`switchboard_store.postgres_writes.queue_job` inside the
transaction of the change that calls for them (the outbox). A claim selects the oldest
due job and locks its row, skipping rows other claimers hold locked, and leases it in
the same transaction: several store replicas (or many workers on one) never hand out
one job twice and never wait on each other. Complete and fail lock the job's row and
check the lease token, so a worker whose lease expired cannot finish a re-claimed job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from switchboard.clock import Clock
from switchboard.errors import NotFound
from switchboard.jobs import Job, JobState
from switchboard_store import job_rules
from switchboard_store.job_queue import MAX_ERROR_CHARS, JobQueue, RetryPolicy
from switchboard_store.rows import job_from_row
from switchboard_store.validation import list_limit

# The oldest due pending job or expired lease of the given kinds, locked for this
# transaction; rows locked by a concurrent claim are skipped, not waited for.
_CLAIMABLE = (
    "SELECT * FROM jobs WHERE kind = ANY($1::text[]) AND ("
    " (state = 'pending' AND available_at <= $2) OR (state = 'running' AND leased_until <= $2))"
    " ORDER BY created_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED"
)


async def _locked(conn: asyncpg.Connection, job_id: str) -> Job:
    row = await conn.fetchrow("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", job_id)
    if row is None:
        raise NotFound(f"no job with job_id {job_id}")
    return job_from_row(row)


class PostgresJobQueue(JobQueue):
    """Jobs in the store's PostgreSQL database; times from ``clock``."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock, policy: RetryPolicy | None = None):
        self._pool = pool
        self._clock = clock
        self.policy = policy or RetryPolicy()

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        job_rules.check_claim(worker, kinds, lease_sec)
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            while (row := await conn.fetchrow(_CLAIMABLE, list(kinds), now)) is not None:
                job = job_from_row(row)
                if job_rules.died_on_last_try(job, self.policy):
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
                job_rules.log_claimed(job, claimed, worker)
                return claimed
        return None

    async def complete(self, job_id: str, lease_token: str) -> Job:
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            job = await _locked(conn, job_id)
            if job_rules.completed_with(job, lease_token):
                return job
            job_rules.check_lease(job, lease_token)
            done = job_from_row(
                await conn.fetchrow(
                    "UPDATE jobs SET state = $1, leased_until = NULL, last_error = '',"
                    " updated_at = $2 WHERE job_id = $3 RETURNING *",
                    JobState.DONE.value,
                    now,
                    job_id,
                )
            )
        job_rules.log_done(job)
        return done

    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        reason = error[:MAX_ERROR_CHARS]
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            job = await _locked(conn, job_id)
            job_rules.check_lease(job, lease_token)
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
        job_rules.log_retry(job, delay)
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
        job_rules.log_dead(job)
        return job_from_row(row)

    async def replay(self, job_id: str) -> Job:
        now = self._now()
        async with self._pool.acquire() as conn, conn.transaction():
            job = await _locked(conn, job_id)
            job_rules.check_replay(job)
            replayed = job_from_row(
                await conn.fetchrow(
                    "UPDATE jobs SET state = $1, attempts = 0, available_at = $2, updated_at = $2"
                    " WHERE job_id = $3 RETURNING *",
                    JobState.PENDING.value,
                    now,
                    job_id,
                )
            )
        job_rules.log_replayed(job)
        return replayed

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
