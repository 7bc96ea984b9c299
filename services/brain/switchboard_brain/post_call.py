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

from opentelemetry.trace import SpanKind

from switchboard import telemetry
from switchboard.clock import Sleep
from switchboard.config import PostCallSettings
from switchboard.job_worker import JobSource, JobWorker
from switchboard.jobs import POST_CALL, Job
from switchboard_brain.sms_summary import SmsSender, send_summary
from switchboard_brain.store import CallStore
from switchboard_brain.summary import PostCallReport
from switchboard_brain.summary_llm import Summarizer


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


class PostCallWorker(JobWorker):
    """Claims post-call jobs from the store one at a time and writes their reports."""

    kind = POST_CALL

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
        super().__init__(jobs, worker_id, settings.lease_sec, settings.poll_sec, sleep)
        self._sms = sms  # None: SMS are only logged, the summary is not texted
        self._store = store
        self._summarizer = summarizer
        self._hold_sec = settings.hold_sec

    async def process(self, job: Job) -> None:
        """As every job; its span joins the trace of the call whose ending queued it."""
        attributes = {"job.id": job.job_id, "job.kind": job.kind, "job.attempt": job.attempts}
        with (
            telemetry.call_scope(job.call_id, job.traceparent),
            telemetry.span("post_call", attributes, kind=SpanKind.CONSUMER),
        ):
            await super().process(job)

    async def work(self, job: Job) -> None:
        if self._hold_sec:
            await self._sleep(self._hold_sec)
        report = await write_report(self._store, self._summarizer, job.call_id, job.job_id)
        if self._sms is not None:
            await send_summary(self._sms, self._store, job.call_id, report.sms_summary)
