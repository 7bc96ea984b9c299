"""Database rows ↔ domain types, timestamps and event payloads.

A row is anything indexed by column name: a ``sqlite3.Row`` (times as ISO text) or an
asyncpg ``Record`` (times as ``datetime``); both backends share these conversions.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import TypeAdapter

from switchboard import domain
from switchboard.jobs import Job, JobState
from switchboard_store.repository import CallEvent, ClaimChange, EventPayload

_TOOL_CALLS = TypeAdapter(list[domain.ToolCall])


class Row(Protocol):
    """A stored row, read by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def stamp(value: datetime) -> str:
    """UTC ISO 8601 with microseconds: fixed width, so text order is time order."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def stamp_or_none(value: datetime | None) -> str | None:
    return stamp(value) if value is not None else None


def parse_stamp(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def parse_stamp_required(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def message_from_row(row: Row) -> domain.Message:
    return domain.Message(
        seq=row["seq"],
        created_at=parse_stamp(row["created_at"]),
        persona=domain.Persona(row["persona"]),
        action=domain.MessageAction(row["action"]),
        content=row["content"],
        lang=row["lang"],
        turn_id=row["turn_id"],
        tool_calls=_TOOL_CALLS.validate_json(row["tool_calls_json"]),
        interrupted=bool(row["interrupted"]),
    )


def tool_calls_json(msg: domain.Message) -> str:
    return json.dumps([t.model_dump() for t in msg.tool_calls], ensure_ascii=False)


def reminder_from_row(row: Row) -> domain.Reminder:
    return domain.Reminder(
        title=row["title"],
        description=row["description"],
        due_at=parse_stamp(row["due_at"]),
        owner=row["owner"],
        created_at=parse_stamp(row["created_at"]),
        updated_at=parse_stamp(row["updated_at"]),
    )


def call_from_row(
    row: Row,
    claim: dict[str, str],
    messages: list[domain.Message],
    reminders: list[domain.Reminder],
) -> domain.Call:
    return domain.Call(
        call_id=row["call_id"],
        initiate=domain.CallRequest.model_validate_json(row["initiate_json"]),
        direction=domain.CallDirection(row["direction"]),
        state=domain.CallState(row["state"]),
        state_reason=row["state_reason"],
        created_at=parse_stamp(row["created_at"]),
        updated_at=parse_stamp(row["updated_at"]),
        claim=claim,
        messages=messages,
        reminders=reminders,
        synthesis=(
            domain.Synthesis.model_validate_json(row["synthesis_json"])
            if row["synthesis_json"]
            else None
        ),
        next_action=(
            domain.NextAction.model_validate_json(row["next_action_json"])
            if row["next_action_json"]
            else None
        ),
        sms_summary=row["sms_summary"],
        lang=row["lang"],
        policy_state=row["policy_state"],
        last_interaction_at=parse_stamp(row["last_interaction_at"]),
        attempt=row["attempt"],
        # Only a live call's holder is reached; a released lease keeps no address.
        dialer_address=row["lease_address"] if row["lease_owner"] else "",
    )


def encode_event(payload: EventPayload) -> tuple[str, str]:
    """``(kind, payload_json)`` of an event as stored."""
    match payload:
        case domain.CallState():
            return "state", json.dumps(payload.value)
        case domain.Message():
            return "message", payload.model_dump_json()
        case ClaimChange():
            return "claim", json.dumps({"field": payload.field, "value": payload.value})
        case domain.Reminder():
            return "reminder", payload.model_dump_json()
        case domain.Synthesis():
            return "synthesis", payload.model_dump_json()
    raise TypeError(f"not an event payload: {type(payload).__name__}")


def decode_event(row: Row) -> CallEvent:
    kind: str = row["kind"]
    raw: str = row["payload_json"]
    payload: EventPayload
    if kind == "state":
        payload = domain.CallState(json.loads(raw))
    elif kind == "message":
        payload = domain.Message.model_validate_json(raw)
    elif kind == "claim":
        data: dict[str, Any] = json.loads(raw)
        payload = ClaimChange(field=str(data["field"]), value=str(data["value"]))
    elif kind == "reminder":
        payload = domain.Reminder.model_validate_json(raw)
    elif kind == "synthesis":
        payload = domain.Synthesis.model_validate_json(raw)
    else:
        raise ValueError(f"unknown stored event kind {kind!r}")
    return CallEvent(
        call_id=row["call_id"], seq=row["seq"], at=parse_stamp_required(row["at"]), payload=payload
    )


def job_from_row(row: Row) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        call_id=row["call_id"],
        state=JobState(row["state"]),
        attempts=row["attempts"],
        lease_token=row["lease_token"],
        leased_by=row["leased_by"],
        leased_until=parse_stamp(row["leased_until"]),
        available_at=parse_stamp(row["available_at"]),
        last_error=row["last_error"],
        created_at=parse_stamp(row["created_at"]),
        updated_at=parse_stamp(row["updated_at"]),
        traceparent=row["traceparent"],
    )
