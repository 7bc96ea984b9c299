"""The job queue on SQLite: a ``jobs`` table in the store's file, written by its writer.

Jobs are queued by :func:`queue_job` inside the transaction of the change that calls
for them (the outbox); :class:`SqliteJobQueue` hands them out under leases. Every
change runs on the one writer thread, so a claim's read-then-update cannot race
another claim: two workers never hold the same job.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from switchboard.clock import Clock
from switchboard.errors import NotFound
from switchboard.jobs import Job, JobState
from switchboard_store import job_rules, rows
from switchboard_store.job_queue import MAX_ERROR_CHARS, JobQueue, RetryPolicy
from switchboard_store.rows import job_from_row
from switchboard_store.sqlite_db import SqliteDatabase
from switchboard_store.validation import list_limit

if TYPE_CHECKING:
    from switchboard_store.sqlite_writes import Transaction

T = TypeVar("T")


def queue_job(tx: Transaction, kind: str, call_id: str, job_id: str) -> None:
    """Queues a job in ``tx``; a job id queued before is left as it is (idempotent).

    The job keeps the transaction's ``traceparent``: its worker joins the call's trace.
    """
    tx.conn.execute(
        "INSERT INTO jobs (job_id, kind, call_id, state, available_at, created_at, updated_at,"
        " traceparent) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
        (job_id, kind, call_id, JobState.PENDING.value, tx.now, tx.now, tx.now, tx.traceparent),
    )


def _job(conn: sqlite3.Connection, job_id: str) -> Job:
    row = conn.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFound(f"no job with job_id {job_id}")
    return job_from_row(row)


def _due(conn: sqlite3.Connection, kinds: Sequence[str], now: str) -> sqlite3.Row | None:
    """The oldest due pending job or expired lease of ``kinds``."""
    marks = ",".join("?" * len(kinds))
    row: sqlite3.Row | None = conn.execute(
        f"SELECT * FROM jobs WHERE kind IN ({marks}) AND ("
        " (state = 'pending' AND available_at <= ?) OR (state = 'running' AND leased_until <= ?))"
        " ORDER BY created_at, job_id LIMIT 1",
        (*kinds, now, now),
    ).fetchone()
    return row


def _held(conn: sqlite3.Connection, job_id: str, lease_token: str) -> Job:
    """The job, if ``lease_token`` is still its lease; else FailedPrecondition."""
    job = _job(conn, job_id)
    job_rules.check_lease(job, lease_token)
    return job


class SqliteJobQueue(JobQueue):
    """Jobs in the store's SQLite file, on its writer thread; times from ``clock``."""

    def __init__(self, db: SqliteDatabase, clock: Clock, policy: RetryPolicy | None = None):
        self._db = db
        self._clock = clock
        self.policy = policy or RetryPolicy()

    async def _write(self, work: Callable[[sqlite3.Connection, datetime], T]) -> T:
        now = self._clock.now()
        return await self._db.write(lambda conn: work(conn, now))

    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        job_rules.check_claim(worker, kinds, lease_sec)
        kinds = list(kinds)
        # A read first: an idle worker polling costs no write transaction.
        now = rows.stamp(self._clock.now())
        if await self._db.read(lambda conn: _due(conn, kinds, now)) is None:
            return None
        return await self._write(lambda conn, at: self._claim(conn, at, worker, kinds, lease_sec))

    def _claim(
        self,
        conn: sqlite3.Connection,
        at: datetime,
        worker: str,
        kinds: Sequence[str],
        lease_sec: float,
    ) -> Job | None:
        now = rows.stamp(at)
        while (row := _due(conn, kinds, now)) is not None:
            job = job_from_row(row)
            if job_rules.died_on_last_try(job, self.policy):
                self._bury(conn, job, now, f"lease expired on try {job.attempts}")
                continue
            token = uuid.uuid4().hex
            conn.execute(
                "UPDATE jobs SET state = ?, attempts = attempts + 1, lease_token = ?,"
                " leased_by = ?, leased_until = ?, updated_at = ? WHERE job_id = ?",
                (
                    JobState.RUNNING.value,
                    token,
                    worker,
                    rows.stamp(at + timedelta(seconds=lease_sec)),
                    now,
                    job.job_id,
                ),
            )
            claimed = _job(conn, job.job_id)
            job_rules.log_claimed(job, claimed, worker)
            return claimed
        return None

    async def complete(self, job_id: str, lease_token: str) -> Job:
        return await self._write(lambda conn, at: self._complete(conn, at, job_id, lease_token))

    @staticmethod
    def _complete(conn: sqlite3.Connection, at: datetime, job_id: str, lease_token: str) -> Job:
        job = _job(conn, job_id)
        if job_rules.completed_with(job, lease_token):
            return job
        _held(conn, job_id, lease_token)
        conn.execute(
            "UPDATE jobs SET state = ?, leased_until = NULL, last_error = '', updated_at = ?"
            " WHERE job_id = ?",
            (JobState.DONE.value, rows.stamp(at), job_id),
        )
        job_rules.log_done(job)
        return _job(conn, job_id)

    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        reason = error[:MAX_ERROR_CHARS]
        return await self._write(lambda conn, at: self._fail(conn, at, job_id, lease_token, reason))

    def _fail(
        self, conn: sqlite3.Connection, at: datetime, job_id: str, lease_token: str, error: str
    ) -> Job:
        job = _held(conn, job_id, lease_token)
        now = rows.stamp(at)
        if job.attempts >= self.policy.max_attempts:
            self._bury(conn, job, now, error)
            return _job(conn, job_id)
        delay = self.policy.delay_sec(job.attempts)
        conn.execute(
            "UPDATE jobs SET state = ?, available_at = ?, lease_token = '', leased_until = NULL,"
            " last_error = ?, updated_at = ? WHERE job_id = ?",
            (
                JobState.PENDING.value,
                rows.stamp(at + timedelta(seconds=delay)),
                error,
                now,
                job_id,
            ),
        )
        job_rules.log_retry(job, delay)
        return _job(conn, job_id)

    @staticmethod
    def _bury(conn: sqlite3.Connection, job: Job, now: str, error: str) -> None:
        conn.execute(
            "UPDATE jobs SET state = ?, lease_token = '', leased_until = NULL, last_error = ?,"
            " updated_at = ? WHERE job_id = ?",
            (JobState.DEAD.value, error, now, job.job_id),
        )
        job_rules.log_dead(job)

    async def replay(self, job_id: str) -> Job:
        return await self._write(lambda conn, at: self._replay(conn, at, job_id))

    @staticmethod
    def _replay(conn: sqlite3.Connection, at: datetime, job_id: str) -> Job:
        job = _job(conn, job_id)
        job_rules.check_replay(job)
        now = rows.stamp(at)
        conn.execute(
            "UPDATE jobs SET state = ?, attempts = 0, available_at = ?, updated_at = ?"
            " WHERE job_id = ?",
            (JobState.PENDING.value, now, now, job_id),
        )
        job_rules.log_replayed(job)
        return _job(conn, job_id)

    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        size = list_limit(limit)
        where, params = ("WHERE state = ?", [state.value]) if state else ("", [])

        def read(conn: sqlite3.Connection) -> list[Job]:
            found = conn.execute(
                f"SELECT * FROM jobs {where} ORDER BY created_at, job_id LIMIT ?", [*params, size]
            )
            return [job_from_row(r) for r in found]

        return await self._db.read(read)
