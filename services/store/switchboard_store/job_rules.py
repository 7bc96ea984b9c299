"""The rules of the job queue, shared by both backends: checks and log lines, no SQL.

:class:`~switchboard_store.sqlite_jobs.SqliteJobQueue` and
:class:`~switchboard_store.postgres_jobs.PostgresJobQueue` differ in how they lock and
write a job; when a claim is valid, a lease still held or a job due to die is decided
here once, and each outcome is logged the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.jobs import Job, JobState
from switchboard_store.job_queue import MAX_LEASE_SEC, RetryPolicy
from switchboard_store.validation import MAX_SHORT_TEXT, text

log = logging.getLogger(__name__)


def check_claim(worker: str, kinds: Sequence[str], lease_sec: float) -> None:
    """InvalidArgument unless ``worker`` names itself, ``kinds`` is not empty and the
    lease is positive and at most :data:`MAX_LEASE_SEC`."""
    text(worker, "worker", MAX_SHORT_TEXT, required=True)
    if not kinds:
        raise InvalidArgument("kinds must name at least one job kind, e.g. post_call")
    if not 0 < lease_sec <= MAX_LEASE_SEC:
        raise InvalidArgument(f"lease_sec must be above 0 and at most {MAX_LEASE_SEC:.0f}")


def died_on_last_try(job: Job, policy: RetryPolicy) -> bool:
    """Whether a claimable job is a lease that expired on its last allowed try: its worker
    died (or overran the lease), so it goes dead instead of being claimed again."""
    return job.state is JobState.RUNNING and job.attempts >= policy.max_attempts


def completed_with(job: Job, lease_token: str) -> bool:
    """Whether ``job`` was completed before under ``lease_token``: the reply was lost."""
    return job.state is JobState.DONE and job.lease_token == lease_token


def check_lease(job: Job, lease_token: str) -> None:
    """FailedPrecondition unless ``lease_token`` is still the job's lease."""
    if job.state is not JobState.RUNNING or job.lease_token != lease_token:
        raise FailedPrecondition(
            f"job {job.job_id} is not leased with this token (it is {job.state.value}); "
            "its lease expired and it was claimed again, or it is finished"
        )


def check_replay(job: Job) -> None:
    """FailedPrecondition unless ``job`` is dead: only those are given back by an operator."""
    if job.state is not JobState.DEAD:
        raise FailedPrecondition(
            f"job {job.job_id} is {job.state.value}; only dead jobs are replayed"
        )


def log_replayed(job: Job) -> None:
    log.info("dead job replayed", extra={"job_id": job.job_id, "call_id": job.call_id})


def log_claimed(job: Job, claimed: Job, worker: str) -> None:
    """Logs the claim of ``job`` (as it was before), now ``claimed`` by ``worker``."""
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


def log_done(job: Job) -> None:
    log.info("job done", extra={"job_id": job.job_id, "call_id": job.call_id})


def log_retry(job: Job, delay_sec: float) -> None:
    log.warning(
        "job failed; retried later",
        extra={
            "job_id": job.job_id,
            "call_id": job.call_id,
            "attempt": job.attempts,
            "retry_in_sec": delay_sec,
        },
    )


def log_dead(job: Job) -> None:
    # The error text stays in the table (ListJobs): it may quote call data.
    log.error(
        "job dead after its last try",
        extra={"job_id": job.job_id, "call_id": job.call_id, "attempts": job.attempts},
    )
