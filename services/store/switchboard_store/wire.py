"""Store-specific conversions between wire messages and domain types (edge only).

:mod:`switchboard.convert` raises ``ValueError`` on values it cannot map (an unknown
enum number, a timestamp out of range); here those become ``InvalidArgument`` with
the field named, so nothing a caller sends surfaces as an internal error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from switchboard import convert, domain
from switchboard.call_leases import CallLease
from switchboard.errors import InvalidArgument
from switchboard.jobs import JobState
from switchboard.v1 import common_pb2, store_pb2
from switchboard_store.repository import CallEvent, DocumentChunk

T = TypeVar("T")

_FIELD_TYPES = ", ".join(t.value for t in domain.ClaimFieldType)
_STATES = ", ".join(s.value for s in domain.CallState)
_JOB_STATES = ", ".join(s.value for s in JobState)


def _converted(what: str, convert_it: Callable[[], T]) -> T:
    try:
        return convert_it()
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(f"{what}: {exc}") from exc


def call_request(msg: common_pb2.CallRequest, what: str = "initiate") -> domain.CallRequest:
    for index, claim_field in enumerate(msg.claim):
        if claim_field.type == common_pb2.CLAIM_FIELD_TYPE_UNSPECIFIED or (
            claim_field.type not in common_pb2.ClaimFieldType.values()
        ):
            raise InvalidArgument(
                f"{what}.claim[{index}] ({claim_field.name!r}): type must be one of {_FIELD_TYPES}"
            )
    return _converted(what, lambda: convert.request_from_pb(msg))


def call_state(value: int) -> domain.CallState:
    try:
        return convert.call_state_from_pb(value)
    except ValueError as exc:
        raise InvalidArgument(f"state must be one of {_STATES}") from exc


def call_lease(msg: store_pb2.CallLease) -> CallLease:
    return CallLease(owner=msg.owner, lease_sec=msg.lease_sec, address=msg.address)


def job_state(value: int) -> JobState | None:
    try:
        return convert.job_state_from_pb(value)
    except ValueError as exc:
        raise InvalidArgument(f"state must be one of {_JOB_STATES}") from exc


def message(msg: common_pb2.Message, index: int) -> domain.Message:
    if msg.persona not in (
        common_pb2.PERSONA_HUMAN,
        common_pb2.PERSONA_ASSISTANT,
        common_pb2.PERSONA_TOOL,
    ):
        raise InvalidArgument(f"messages[{index}].persona must be human, assistant or tool")
    # Unset (0) means "talk"; an unknown number is a caller bug worth reporting.
    if msg.action not in common_pb2.MessageAction.values():
        raise InvalidArgument(f"messages[{index}].action is not a known message action")
    # The store assigns seq and created_at; what the caller sent there is ignored.
    clean = common_pb2.Message()
    clean.CopyFrom(msg)
    clean.ClearField("created_at")
    return _converted(f"messages[{index}]", lambda: convert.message_from_pb(clean))


def reminder(msg: store_pb2.UpsertReminderRequest) -> domain.Reminder:
    return _converted("reminder", lambda: convert.reminder_from_pb(msg.reminder))


def chunk(msg: store_pb2.DocumentChunk) -> DocumentChunk:
    return DocumentChunk(
        id=msg.id,
        content=msg.content,
        embedding=list(msg.embedding),
        source=msg.source,
        title=msg.title,
    )


def scored_chunk(hit: domain.ChunkHit) -> store_pb2.ScoredChunk:
    return store_pb2.ScoredChunk(
        chunk=store_pb2.DocumentChunk(
            id=hit.id, source=hit.source, title=hit.title, content=hit.content
        ),
        score=hit.score,
    )


def event(value: CallEvent) -> common_pb2.CallEvent:
    return convert.call_event_to_pb(value)
