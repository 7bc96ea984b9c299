"""The job queue on Cosmos DB: the ``jobs`` container, claimed with ETags.

A job is queued in the call document's ``outbox`` by the change that calls for it (so
it commits with that change, in the call's partition) and copied to ``jobs`` right
after the commit; :func:`relay_outboxes` copies what a crash left behind (at open, and
from ``claim`` at most every :data:`SWEEP_INTERVAL_SEC`). Copying is idempotent: a job
id is created once. A claim reads the due jobs and leases the oldest by replacing it
under its ETag; a replace that finds another ETag (HTTP 412) means another worker or
replica took the job first, and the claim moves on to the next. Complete and fail
replace under the ETag they checked the lease on, re-reading on a conflict.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.cosmos import exceptions
from azure.cosmos.aio import ContainerProxy

from switchboard.clock import Clock
from switchboard.errors import NotFound
from switchboard.jobs import Job, JobState
from switchboard_store import job_rules, rows
from switchboard_store.cosmos_calls import CallChange
from switchboard_store.job_queue import MAX_ERROR_CHARS, JobQueue, RetryPolicy
from switchboard_store.validation import list_limit

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SEC = 60.0
Item = dict[str, Any]

_CLAIMABLE = (
    "SELECT * FROM c WHERE ARRAY_CONTAINS(@kinds, c.kind) AND ("
    "(c.state = 'pending' AND c.available_at <= @now)"
    " OR (c.state = 'running' AND c.leased_until <= @now))"
)


def new_job(job_id: str, kind: str, call_id: str, now: datetime, traceparent: str) -> Item:
    stamp = rows.stamp(now)
    return {
        "id": job_id,
        "job_id": job_id,
        "kind": kind,
        "call_id": call_id,
        "state": JobState.PENDING.value,
        "attempts": 0,
        "lease_token": "",
        "leased_by": "",
        "leased_until": None,
        "available_at": stamp,
        "last_error": "",
        "created_at": stamp,
        "updated_at": stamp,
        "traceparent": traceparent,
    }


def queue(change: CallChange, kind: str, job_id: str) -> None:
    """Queues a job in the call document's outbox: it commits with ``change`` and is
    copied to ``jobs`` after the commit (or by the sweep after a crash). A job queued
    before (in the outbox, or relayed) is not queued again."""
    if any(job["job_id"] == job_id for job in change.call["outbox"]):
        return
    job = new_job(job_id, kind, change.call_id, change.now, change.traceparent)
    change.set(outbox=[*change.call["outbox"], job], outbox_pending=True)


async def relay(jobs: ContainerProxy, outbox: Sequence[Item]) -> None:
    """Creates the outbox's jobs in ``jobs``; one created before is left as it is."""
    for job in outbox:
        try:
            await jobs.create_item(job)
        except exceptions.CosmosResourceExistsError:
            pass


async def relay_outboxes(
    calls: ContainerProxy, jobs: ContainerProxy, clear: Callable[[str, list[str]], Any]
) -> int:
    """Relays every call's pending outbox (a cross-partition query on a flag that is
    true only between a commit and its relay); ``clear`` empties a call's outbox."""
    relayed = 0
    async for call in calls.query_items(
        "SELECT c.call_id, c.outbox FROM c WHERE c.type = 'call' AND c.outbox_pending = true",
    ):
        await relay(jobs, call["outbox"])
        await clear(call["call_id"], [j["job_id"] for j in call["outbox"]])
        relayed += len(call["outbox"])
    if relayed:
        log.warning("queued jobs relayed after a restart", extra={"jobs": relayed})
    return relayed


class CosmosJobQueue(JobQueue):
    """Jobs in the ``jobs`` container; times from ``clock``."""

    def __init__(
        self,
        jobs: ContainerProxy,
        clock: Clock,
        policy: RetryPolicy | None = None,
        sweep: Callable[[], Any] | None = None,
    ) -> None:
        self._jobs = jobs
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._sweep = sweep
        self._swept_at: datetime | None = None

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    async def _replace(self, doc: Item, **fields: Any) -> Job:
        """Replaces the job under the ETag it was read with; 412 propagates."""
        body = {k: v for k, v in doc.items() if not k.startswith("_")}
        body.update(fields, updated_at=rows.stamp(self._now()))
        stored = await self._jobs.replace_item(doc["id"], body, if_match=doc["_etag"])
        return rows.job_from_row(stored)

    async def _read(self, job_id: str) -> Item:
        try:
            doc: Item = await self._jobs.read_item(job_id, partition_key=job_id)
        except exceptions.CosmosResourceNotFoundError as exc:
            raise NotFound(f"no job with job_id {job_id}") from exc
        return doc

    async def _relay_stranded(self, now: datetime) -> None:
        if self._sweep is None:
            return
        if self._swept_at is not None and now - self._swept_at < timedelta(
            seconds=SWEEP_INTERVAL_SEC
        ):
            return
        self._swept_at = now
        await self._sweep()

    async def claim(self, worker: str, kinds: Sequence[str], lease_sec: float) -> Job | None:
        job_rules.check_claim(worker, kinds, lease_sec)
        now = self._now()
        await self._relay_stranded(now)
        stamp = rows.stamp(now)
        found = [
            doc
            async for doc in self._jobs.query_items(
                _CLAIMABLE,
                parameters=[
                    {"name": "@kinds", "value": list(kinds)},
                    {"name": "@now", "value": stamp},
                ],
            )
        ]
        for doc in sorted(found, key=lambda d: (d["created_at"], d["job_id"])):
            job = rows.job_from_row(doc)
            try:
                if job_rules.died_on_last_try(job, self.policy):
                    await self._bury(doc, job, f"lease expired on try {job.attempts}")
                    continue
                claimed = await self._replace(
                    doc,
                    state=JobState.RUNNING.value,
                    attempts=job.attempts + 1,
                    lease_token=uuid.uuid4().hex,
                    leased_by=worker,
                    leased_until=rows.stamp(now + timedelta(seconds=lease_sec)),
                )
            except exceptions.CosmosAccessConditionFailedError:
                continue  # another claimer changed it first
            job_rules.log_claimed(job, claimed, worker)
            return claimed
        return None

    async def complete(self, job_id: str, lease_token: str) -> Job:
        while True:
            doc = await self._read(job_id)
            job = rows.job_from_row(doc)
            if job_rules.completed_with(job, lease_token):
                return job
            job_rules.check_lease(job, lease_token)
            try:
                done = await self._replace(
                    doc, state=JobState.DONE.value, leased_until=None, last_error=""
                )
            except exceptions.CosmosAccessConditionFailedError:
                continue  # changed since the read: check the lease again
            job_rules.log_done(job)
            return done

    async def fail(self, job_id: str, lease_token: str, error: str) -> Job:
        reason = error[:MAX_ERROR_CHARS]
        while True:
            doc = await self._read(job_id)
            job = rows.job_from_row(doc)
            job_rules.check_lease(job, lease_token)
            try:
                if job.attempts >= self.policy.max_attempts:
                    return await self._bury(doc, job, reason)
                delay = self.policy.delay_sec(job.attempts)
                failed = await self._replace(
                    doc,
                    state=JobState.PENDING.value,
                    available_at=rows.stamp(self._now() + timedelta(seconds=delay)),
                    lease_token="",
                    leased_until=None,
                    last_error=reason,
                )
            except exceptions.CosmosAccessConditionFailedError:
                continue
            job_rules.log_retry(job, delay)
            return failed

    async def replay(self, job_id: str) -> Job:
        while True:
            doc = await self._read(job_id)
            job = rows.job_from_row(doc)
            job_rules.check_replay(job)
            try:
                replayed = await self._replace(
                    doc,
                    state=JobState.PENDING.value,
                    attempts=0,
                    available_at=rows.stamp(self._now()),
                )
            except exceptions.CosmosAccessConditionFailedError:
                continue
            job_rules.log_replayed(job)
            return replayed

    async def _bury(self, doc: Item, job: Job, error: str) -> Job:
        dead = await self._replace(
            doc, state=JobState.DEAD.value, lease_token="", leased_until=None, last_error=error
        )
        job_rules.log_dead(job)
        return dead

    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        size = list_limit(limit)
        if state is None:
            found = self._jobs.query_items("SELECT * FROM c")
        else:
            found = self._jobs.query_items(
                "SELECT * FROM c WHERE c.state = @state",
                parameters=[{"name": "@state", "value": state.value}],
            )
        docs = sorted([d async for d in found], key=lambda d: (d["created_at"], d["job_id"]))
        return [rows.job_from_row(d) for d in docs[:size]]
