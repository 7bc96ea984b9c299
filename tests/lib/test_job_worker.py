"""The claim loop shared by the job workers: what fails, completes and is logged."""

from __future__ import annotations

import logging

import pytest

from switchboard.errors import FailedPrecondition
from switchboard.job_worker import JobFailed, JobWorker
from switchboard.jobs import Job, JobState


class Jobs:
    def __init__(self, *jobs: Job, lose_lease: bool = False) -> None:
        self.queue = list(jobs)
        self.lose_lease = lose_lease
        self.completed: list[str] = []
        self.failed: list[tuple[str, str]] = []

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None:
        return self.queue.pop(0) if self.queue and kinds == ["test"] else None

    async def complete_job(self, job_id: str, lease_token: str) -> Job:
        if self.lose_lease:
            raise FailedPrecondition("the lease is no longer yours")
        self.completed.append(job_id)
        return JOB

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job:
        self.failed.append((job_id, error))
        return JOB


JOB = Job("test:c1:1", "test", "c1", JobState.RUNNING, attempts=1, lease_token="t")


class Worker(JobWorker):
    kind = "test"

    def __init__(self, jobs: Jobs, error: Exception | None = None) -> None:
        super().__init__(jobs, "w1", lease_sec=30, poll_sec=1)
        self.error = error
        self.done: list[str] = []

    async def work(self, job: Job) -> None:
        if self.error is not None:
            raise self.error
        self.done.append(job.job_id)


async def test_a_job_is_claimed_worked_and_completed_then_the_queue_is_empty() -> None:
    jobs = Jobs(JOB)
    worker = Worker(jobs)

    assert await worker.run_next() is True
    assert await worker.run_next() is False
    assert (worker.done, jobs.completed, jobs.failed) == (["test:c1:1"], ["test:c1:1"], [])


@pytest.mark.parametrize(
    ("error", "kept", "logged"),
    [
        (JobFailed("the receiver answered HTTP 500"), "the receiver answered HTTP 500", "HTTP 500"),
        (ValueError("mary@example.com"), "ValueError: mary@example.com", "ValueError"),
    ],
)
async def test_a_failure_is_kept_with_the_job_and_logged_without_call_data(
    caplog: pytest.LogCaptureFixture, error: Exception, kept: str, logged: str
) -> None:
    jobs = Jobs(JOB)
    with caplog.at_level(logging.WARNING, logger="switchboard.job_worker"):
        await Worker(jobs, error).run_next()

    assert jobs.failed == [("test:c1:1", kept)] and jobs.completed == []
    (record,) = caplog.records
    assert logged in record.error  # type: ignore[attr-defined]
    assert "mary" not in record.error  # type: ignore[attr-defined]


async def test_a_lease_lost_before_completion_is_neither_failed_nor_retried_here() -> None:
    jobs = Jobs(JOB, lose_lease=True)
    worker = Worker(jobs)

    await worker.run_next()

    assert worker.done == ["test:c1:1"] and jobs.failed == []
