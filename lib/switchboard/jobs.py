"""Durable jobs the store hands out to workers: the domain side of ``Store.ClaimJob``.

The store queues a job in the same transaction as the change that calls for it (an
outbox: a call that ended after being connected queues its ``post_call`` job), so a
crash between the change and the work cannot lose the work. A worker claims a job
for a lease, does it, and completes it; a job whose worker died is handed out again
once its lease has expired. Work done by a job must be idempotent by ``job_id``: a
job can run more than once, its effect must land once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

POST_CALL = "post_call"
"""Synthesis, next action and SMS summary of a call that ended after being connected."""

KINDS: tuple[str, ...] = (POST_CALL,)
"""Every kind of job the store queues: what the Redis outbox relay moves to streams.
A new kind is added here."""


class JobState(StrEnum):
    PENDING = "pending"  # waiting for a worker (maybe until ``available_at``, after a failure)
    RUNNING = "running"  # claimed; ``leased_until`` says until when
    DONE = "done"
    DEAD = "dead"  # failed too often: left for an operator to look at (``ListJobs``)


@dataclass(frozen=True)
class Job:
    """One unit of durable work and where it stands.

    ``attempts`` counts claims, so a worker that died mid-job counts one too.
    ``lease_token`` proves the claim: completing or failing a job needs it.
    """

    job_id: str
    kind: str
    call_id: str
    state: JobState
    attempts: int = 0
    lease_token: str = ""
    leased_by: str = ""
    leased_until: datetime | None = None
    available_at: datetime | None = None
    last_error: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # The W3C traceparent of the change that queued the job: its work joins that trace.
    traceparent: str = ""


def post_call_job_id(call_id: str, attempt: int) -> str:
    """One post-call job per ending of a call: a call resumed by a callback ends again."""
    return f"{POST_CALL}:{call_id}:{attempt}"


WEBHOOK = "webhook"
"""The completion webhook of a call that ended, posted once its report is complete."""


def webhook_job_id(call_id: str, attempt: int) -> str:
    """One webhook delivery per ending of a call, like its post-call job."""
    return f"{WEBHOOK}:{call_id}:{attempt}"
