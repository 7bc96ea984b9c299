"""A job's record in Redis: the hash that holds its state, to and from :class:`Job`.

The hash is the job's idempotency record: a job id is queued once while its hash
lives, and a stream entry is honoured only while it carries the hash's current
``delivery`` nonce (a copy relayed twice, or left behind by a retry, is acknowledged
and skipped).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from switchboard.jobs import Job, JobState


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def new_record(
    job_id: str, kind: str, call_id: str, traceparent: str, at: datetime, delivery: str
) -> dict[str, str | int]:
    """The hash of a freshly queued job."""
    now = stamp(at)
    return {
        "job_id": job_id,
        "kind": kind,
        "call_id": call_id,
        "state": JobState.PENDING.value,
        "attempts": 0,
        "lease_token": "",
        "leased_by": "",
        "leased_until": "",
        "available_at": now,
        "last_error": "",
        "created_at": now,
        "updated_at": now,
        "traceparent": traceparent,
        "delivery": delivery,
    }


def job_from_record(record: Mapping[str, str]) -> Job:
    """The :class:`Job` a hash describes (``HGETALL``)."""
    return Job(
        job_id=record["job_id"],
        kind=record.get("kind", ""),
        call_id=record.get("call_id", ""),
        state=JobState(record.get("state", JobState.PENDING.value)),
        attempts=int(record.get("attempts", 0)),
        lease_token=record.get("lease_token", ""),
        leased_by=record.get("leased_by", ""),
        leased_until=_moment(record.get("leased_until")),
        available_at=_moment(record.get("available_at")),
        last_error=record.get("last_error", ""),
        created_at=_moment(record.get("created_at")),
        updated_at=_moment(record.get("updated_at")),
        traceparent=record.get("traceparent", ""),
    )


def lease_held(record: Mapping[str, str], now: datetime) -> bool:
    """Whether a running job's lease is still in force at ``now`` (its worker may be alive)."""
    until = _moment(record.get("leased_until"))
    return record.get("state") == JobState.RUNNING.value and until is not None and until > now
