"""The claim loop every durable-job worker runs (:mod:`switchboard.jobs`).

A worker claims one job of its kind at a time under a lease, does the work
(:meth:`JobWorker.work`) and completes the job. Work that raises fails the job, which
the store hands out again after its back-off; a worker that is stopped hands its job
back at once instead of leaving it until the lease runs out. Completing can find the
lease lost (it ran out and another worker has the job): the work is idempotent by
``job_id``, so that is logged and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Protocol

from switchboard.clock import Sleep
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.jobs import Job

log = logging.getLogger(__name__)

# How long a stopping worker waits for its loop to end after cancelling it.
STOP_TIMEOUT_SEC = 5.0
# How long a stopping worker tries to hand its job back before leaving it to the lease.
RELEASE_TIMEOUT_SEC = 2.0
STOPPED = "worker stopped"


class JobSource(Protocol):
    """The store's job RPCs (:class:`switchboard.store_client.StoreClient`)."""

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None: ...

    async def complete_job(self, job_id: str, lease_token: str) -> Job: ...

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job: ...


class JobFailed(Exception):
    """The work did not succeed for a reason worth keeping with the job (and logging):
    its message must hold no call data."""


class JobWorker(ABC):
    """Claims jobs of :attr:`kind` one at a time and runs :meth:`work` on each."""

    kind: str

    def __init__(
        self,
        jobs: JobSource,
        worker_id: str,
        lease_sec: float,
        poll_sec: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._jobs = jobs
        self._worker_id = worker_id
        self._lease_sec = lease_sec
        self._poll_sec = poll_sec
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def work(self, job: Job) -> None:
        """Does the job's work; raises (:class:`JobFailed` with a reason) when it failed."""

    def start(self) -> None:
        """Starts the claim loop as a task this worker owns (stopped by :meth:`stop`)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"{self.kind}-worker")

    async def stop(self) -> None:
        """Ends the loop. A job in progress is handed back for a retry; if the store
        cannot be reached, it runs again once its lease expires."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_SEC)
        fields = {"worker": self._worker_id, "kind": self.kind}
        if not done:
            log.warning("job worker did not stop in time", extra=fields)
        elif not task.cancelled() and task.exception() is not None:
            log.error("job worker had crashed", extra=fields, exc_info=task.exception())

    async def run(self) -> None:
        """Claims and runs jobs until cancelled; waits ``poll_sec`` whenever there is none."""
        while True:
            if not await self.run_next():
                await self._sleep(self._poll_sec)

    async def run_next(self) -> bool:
        """Claims one job and runs it; False when there was none (or the store is down)."""
        try:
            job = await self._jobs.claim_job(self._worker_id, [self.kind], self._lease_sec)
        except SwitchboardError as exc:
            log.warning("no job claimed", extra={"kind": self.kind, "error": exc.message})
            return False
        if job is None:
            return False
        await self.process(job)
        return True

    async def process(self, job: Job) -> None:
        """Runs the job's work and completes it, or hands the job back as failed."""
        fields = {
            "job_id": job.job_id,
            "kind": job.kind,
            "call_id": job.call_id,
            "attempt": job.attempts,
        }
        try:
            await self.work(job)
        except asyncio.CancelledError:
            # Stopping: hand the job back now instead of leaving it until the lease ends.
            with contextlib.suppress(SwitchboardError, TimeoutError):
                async with asyncio.timeout(RELEASE_TIMEOUT_SEC):
                    await self._jobs.fail_job(job.job_id, job.lease_token, STOPPED)
            raise
        except Exception as exc:
            log.warning("job failed", extra={**fields, "error": _loggable(exc)})
            with contextlib.suppress(SwitchboardError):
                await self._jobs.fail_job(job.job_id, job.lease_token, _describe(exc))
            return
        try:
            await self._jobs.complete_job(job.job_id, job.lease_token)
        except FailedPrecondition:
            # The lease ran out under this worker and another one has the job; the work
            # is idempotent by job id, so nothing is lost or doubled.
            log.info("job lease lost before completion", extra=fields)
            return
        except SwitchboardError as exc:
            # Not completed: the job runs again after its lease; its effect stays once.
            log.warning("job not completed", extra={**fields, "error": exc.message})
            return
        log.info("job done", extra=fields)


def _loggable(exc: Exception) -> str:
    """What a log may say of a failure: the reason of a JobFailed, else only its type
    (another exception's message may quote call data)."""
    return str(exc) if isinstance(exc, JobFailed) else type(exc).__name__


def _describe(exc: Exception) -> str:
    """What the job keeps of a failure, for an operator listing dead jobs."""
    if isinstance(exc, JobFailed):
        return str(exc)
    message = exc.message if isinstance(exc, SwitchboardError) else str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
