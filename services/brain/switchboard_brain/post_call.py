"""Post-call work: the report of a call that ended, from a durable job in the store.

The store queues a ``post_call`` job in the transaction that ends a connected call.
:class:`PostCallWorker` claims those jobs under a lease, writes the report and
completes the job. A brain killed mid-report leaves its job leased; once the lease
expires the store hands it to the next worker (this brain restarted, or another
replica). The report is saved with the job's id, so the store keeps it once however
often the job runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from opentelemetry.trace import SpanKind

from switchboard import telemetry
from switchboard.clock import Sleep
from switchboard.config import PostCallSettings
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.jobs import POST_CALL, Job
from switchboard_brain.sms_summary import SmsSender, send_summary
from switchboard_brain.store import CallStore
from switchboard_brain.summary import PostCallReport
from switchboard_brain.summary_llm import Summarizer

log = logging.getLogger(__name__)


# How long a stopping worker waits for its loop to end after cancelling it.
STOP_TIMEOUT_SEC = 5.0
# How long a stopping worker tries to hand its job back before leaving it to the lease.
RELEASE_TIMEOUT_SEC = 2.0


class JobSource(Protocol):
    """The store's job RPCs (:class:`switchboard.store_client.StoreClient`)."""

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None: ...

    async def complete_job(self, job_id: str, lease_token: str) -> Job: ...

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job: ...


async def write_report(
    store: CallStore, summarizer: Summarizer, call_id: str, job_id: str = ""
) -> PostCallReport:
    """Summarises the stored call and saves the report (once per ``job_id``)."""
    call = await store.get_call(call_id)
    report = await summarizer.summarize(call)
    await store.save_synthesis(
        call.call_id, report.synthesis, report.next_action, report.sms_summary, job_id=job_id
    )
    return report


class PostCallWorker:
    """Claims post-call jobs from the store one at a time and writes their reports."""

    def __init__(
        self,
        jobs: JobSource,
        store: CallStore,
        summarizer: Summarizer,
        settings: PostCallSettings,
        worker_id: str,
        sleep: Sleep = asyncio.sleep,
        sms: SmsSender | None = None,
    ) -> None:
        self._sms = sms  # None: SMS are only logged, the summary is not texted
        self._jobs = jobs
        self._store = store
        self._summarizer = summarizer
        self._settings = settings
        self._worker_id = worker_id
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the claim loop as a task this worker owns (stopped by :meth:`stop`)."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="post-call-worker")

    async def stop(self) -> None:
        """Ends the loop. A job in progress is handed back for a retry; if the store
        cannot be reached, it runs again once its lease expires."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_SEC)
        if not done:
            log.warning("post-call worker did not stop in time", extra={"worker": self._worker_id})
        elif not task.cancelled() and task.exception() is not None:
            log.error("post-call worker had crashed", exc_info=task.exception())

    async def run(self) -> None:
        """Claims and runs jobs until cancelled; waits ``poll_sec`` whenever there is none."""
        while True:
            if not await self.run_next():
                await self._sleep(self._settings.poll_sec)

    async def run_next(self) -> bool:
        """Claims one job and runs it; False when there was none (or the store is down)."""
        try:
            job = await self._jobs.claim_job(self._worker_id, [POST_CALL], self._settings.lease_sec)
        except SwitchboardError as exc:
            log.warning("no post-call job claimed", extra={"error": exc.message})
            return False
        if job is None:
            return False
        await self.process(job)
        return True

    async def process(self, job: Job) -> None:
        """Writes the job's report and completes it, or hands the job back as failed.

        Its span joins the trace of the call whose ending queued the job.
        """
        attributes = {"job.id": job.job_id, "job.kind": job.kind, "job.attempt": job.attempts}
        with (
            telemetry.call_scope(job.call_id, job.traceparent),
            telemetry.span("post_call", attributes, kind=SpanKind.CONSUMER),
        ):
            await self._process(job)

    async def _process(self, job: Job) -> None:
        fields = {"job_id": job.job_id, "call_id": job.call_id, "attempt": job.attempts}
        try:
            if self._settings.hold_sec:
                await self._sleep(self._settings.hold_sec)
            report = await write_report(self._store, self._summarizer, job.call_id, job.job_id)
            if self._sms is not None:
                await send_summary(self._sms, self._store, job.call_id, report.sms_summary)
        except asyncio.CancelledError:
            # Stopping: hand the job back now instead of leaving it until the lease ends.
            with contextlib.suppress(SwitchboardError, TimeoutError):
                async with asyncio.timeout(RELEASE_TIMEOUT_SEC):
                    await self._jobs.fail_job(job.job_id, job.lease_token, "worker stopped")
            raise
        except Exception as exc:
            log.warning("post-call report failed", extra={**fields, "error": type(exc).__name__})
            with contextlib.suppress(SwitchboardError):
                await self._jobs.fail_job(job.job_id, job.lease_token, _describe(exc))
            return
        try:
            await self._jobs.complete_job(job.job_id, job.lease_token)
        except FailedPrecondition:
            # The lease ran out under this worker and another one has the job; its
            # report write is a no-op (same job id), so nothing is lost or doubled.
            log.info("post-call job lease lost before completion", extra=fields)
            return
        except SwitchboardError as exc:
            # Not completed: the job runs again after its lease; the report stays once.
            log.warning("post-call job not completed", extra={**fields, "error": exc.message})
            return
        log.info("call summarized", extra=fields)


def _describe(exc: Exception) -> str:
    message = exc.message if isinstance(exc, SwitchboardError) else str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
