"""Conversions between domain types and protobuf messages. Only servicers and clients use this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from switchboard import domain
from switchboard.call_events import CallEvent, ClaimChange, EventPayload
from switchboard.jobs import Job, JobState
from switchboard.v1 import common_pb2 as pb
from switchboard.v1 import store_pb2

_FIELD_TYPES: dict[domain.ClaimFieldType, Any] = {
    domain.ClaimFieldType.TEXT: pb.CLAIM_FIELD_TYPE_TEXT,
    domain.ClaimFieldType.DATETIME: pb.CLAIM_FIELD_TYPE_DATETIME,
    domain.ClaimFieldType.EMAIL: pb.CLAIM_FIELD_TYPE_EMAIL,
    domain.ClaimFieldType.PHONE_NUMBER: pb.CLAIM_FIELD_TYPE_PHONE_NUMBER,
}
_FIELD_TYPES_BACK: dict[Any, domain.ClaimFieldType] = {v: k for k, v in _FIELD_TYPES.items()}

# Wire enum values are named after the domain ones: CallState.ENDED <-> CALL_STATE_ENDED.
_STATES: dict[domain.CallState, Any] = {
    s: pb.CallState.Value(f"CALL_STATE_{s.name}") for s in domain.CallState
}
_STATES_BACK = {v: k for k, v in _STATES.items()}
_DIRECTIONS: dict[domain.CallDirection, Any] = {
    d: pb.CallDirection.Value(f"CALL_DIRECTION_{d.name}") for d in domain.CallDirection
}
_DIRECTIONS_BACK = {v: k for k, v in _DIRECTIONS.items()}
_PERSONAS: dict[domain.Persona, Any] = {
    p: pb.Persona.Value(f"PERSONA_{p.name}") for p in domain.Persona
}
_PERSONAS_BACK = {v: k for k, v in _PERSONAS.items()}
_ACTIONS: dict[domain.MessageAction, Any] = {
    a: pb.MessageAction.Value(f"MESSAGE_ACTION_{a.name}") for a in domain.MessageAction
}
_ACTIONS_BACK = {v: k for k, v in _ACTIONS.items()}


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def from_ts(msg: object, field: str) -> datetime | None:
    if not msg.HasField(field):  # type: ignore[attr-defined]
        return None
    stamp: Timestamp = getattr(msg, field)
    return stamp.ToDatetime(tzinfo=UTC)


def field_type_to_pb(value: domain.ClaimFieldType) -> Any:
    return _FIELD_TYPES[value]


def field_type_from_pb(value: int) -> domain.ClaimFieldType:
    if value not in _FIELD_TYPES_BACK:
        raise ValueError(f"unknown claim field type {value}")
    return _FIELD_TYPES_BACK[value]


def call_state_to_pb(state: domain.CallState) -> Any:
    return _STATES[state]


def call_state_from_pb(value: int) -> domain.CallState:
    if value not in _STATES_BACK:
        raise ValueError(f"unknown call state {value}")
    return _STATES_BACK[value]


def direction_from_pb(value: int) -> domain.CallDirection:
    return _DIRECTIONS_BACK.get(value, domain.CallDirection.OUTBOUND)


def direction_to_pb(value: domain.CallDirection) -> Any:
    return _DIRECTIONS[value]


def request_to_pb(req: domain.CallRequest) -> pb.CallRequest:
    return pb.CallRequest(
        bot_company=req.bot_company,
        bot_name=req.bot_name,
        phone_number=req.phone_number,
        agent_phone_number=req.agent_phone_number,
        task=req.task,
        claim=[
            pb.ClaimField(name=f.name, type=_FIELD_TYPES[f.type], description=f.description)
            for f in req.claim
        ],
        lang=req.lang,
        prosody_rate=req.prosody_rate,
        timezone=req.timezone,
        voice=req.voice,
        langs=[
            pb.LangOption(
                short_code=o.short_code,
                voice=o.voice,
                pronunciations_en=list(o.pronunciations_en),
                custom_voice_endpoint_id=o.custom_voice_endpoint_id,
            )
            for o in req.langs
        ],
    )


def request_from_pb(msg: pb.CallRequest) -> domain.CallRequest:
    return domain.CallRequest(
        bot_company=msg.bot_company,
        bot_name=msg.bot_name,
        phone_number=msg.phone_number,
        agent_phone_number=msg.agent_phone_number,
        task=msg.task,
        claim=tuple(
            domain.ClaimField(
                name=f.name, type=field_type_from_pb(f.type), description=f.description
            )
            for f in msg.claim
        ),
        lang=msg.lang or "en-US",
        prosody_rate=msg.prosody_rate or 1.0,
        timezone=msg.timezone,
        voice=msg.voice,
        langs=tuple(
            domain.LangOption(
                short_code=o.short_code,
                voice=o.voice,
                pronunciations_en=tuple(o.pronunciations_en),
                custom_voice_endpoint_id=o.custom_voice_endpoint_id,
            )
            for o in msg.langs
        ),
    )


def message_to_pb(m: domain.Message) -> pb.Message:
    return pb.Message(
        seq=m.seq,
        created_at=ts(m.created_at),
        persona=_PERSONAS[m.persona],
        action=_ACTIONS[m.action],
        content=m.content,
        lang=m.lang,
        turn_id=m.turn_id,
        tool_calls=[
            pb.ToolCall(
                tool_id=t.tool_id, name=t.name, arguments_json=t.arguments_json, result=t.result
            )
            for t in m.tool_calls
        ],
        interrupted=m.interrupted,
    )


def message_from_pb(msg: pb.Message) -> domain.Message:
    persona = _PERSONAS_BACK.get(msg.persona)
    if persona is None:
        raise ValueError("message persona is missing")
    return domain.Message(
        seq=msg.seq,
        created_at=from_ts(msg, "created_at"),
        persona=persona,
        action=_ACTIONS_BACK.get(msg.action, domain.MessageAction.TALK),
        content=msg.content,
        lang=msg.lang,
        turn_id=msg.turn_id,
        tool_calls=[
            domain.ToolCall(
                tool_id=t.tool_id, name=t.name, arguments_json=t.arguments_json, result=t.result
            )
            for t in msg.tool_calls
        ],
        interrupted=msg.interrupted,
    )


def reminder_to_pb(r: domain.Reminder) -> pb.Reminder:
    return pb.Reminder(
        title=r.title,
        description=r.description,
        due_at=ts(r.due_at),
        owner=r.owner,
        created_at=ts(r.created_at),
        updated_at=ts(r.updated_at),
    )


def reminder_from_pb(msg: pb.Reminder) -> domain.Reminder:
    return domain.Reminder(
        title=msg.title,
        description=msg.description,
        due_at=from_ts(msg, "due_at"),
        owner=msg.owner,
        created_at=from_ts(msg, "created_at"),
        updated_at=from_ts(msg, "updated_at"),
    )


def synthesis_to_pb(s: domain.Synthesis) -> pb.Synthesis:
    return pb.Synthesis(**s.model_dump())


def synthesis_from_pb(msg: pb.Synthesis) -> domain.Synthesis:
    return domain.Synthesis(
        short=msg.short,
        long=msg.long,
        satisfaction=msg.satisfaction or "unknown",
        improvement_suggestions=msg.improvement_suggestions,
    )


def next_action_to_pb(n: domain.NextAction) -> pb.NextAction:
    return pb.NextAction(action=n.action, justification=n.justification)


def call_to_pb(call: domain.Call) -> pb.Call:
    return pb.Call(
        call_id=call.call_id,
        created_at=ts(call.created_at),
        updated_at=ts(call.updated_at),
        direction=_DIRECTIONS[call.direction],
        state=_STATES[call.state],
        state_reason=call.state_reason,
        initiate=request_to_pb(call.initiate),
        claim=call.claim,
        messages=[message_to_pb(m) for m in call.messages],
        reminders=[reminder_to_pb(r) for r in call.reminders],
        synthesis=synthesis_to_pb(call.synthesis) if call.synthesis else None,
        next_action=next_action_to_pb(call.next_action) if call.next_action else None,
        sms_summary=call.sms_summary,
        lang=call.lang,
        policy_state=call.policy_state,
        last_interaction_at=ts(call.last_interaction_at),
        attempt=call.attempt,
        dialer_address=call.dialer_address,
    )


def call_from_pb(msg: pb.Call) -> domain.Call:
    return domain.Call(
        call_id=msg.call_id,
        created_at=from_ts(msg, "created_at"),
        updated_at=from_ts(msg, "updated_at"),
        direction=direction_from_pb(msg.direction),
        state=call_state_from_pb(msg.state),
        state_reason=msg.state_reason,
        initiate=request_from_pb(msg.initiate),
        claim=dict(msg.claim),
        messages=[message_from_pb(m) for m in msg.messages],
        reminders=[reminder_from_pb(r) for r in msg.reminders],
        synthesis=synthesis_from_pb(msg.synthesis) if msg.HasField("synthesis") else None,
        next_action=(
            domain.NextAction(
                action=msg.next_action.action, justification=msg.next_action.justification
            )
            if msg.HasField("next_action")
            else None
        ),
        sms_summary=msg.sms_summary,
        lang=msg.lang,
        policy_state=msg.policy_state,
        last_interaction_at=from_ts(msg, "last_interaction_at"),
        attempt=msg.attempt,
        dialer_address=msg.dialer_address,
    )


def call_event_to_pb(event: CallEvent) -> pb.CallEvent:
    msg = pb.CallEvent(call_id=event.call_id, seq=event.seq, at=ts(event.at))
    payload = event.payload
    match payload:
        case domain.CallState():
            msg.state = call_state_to_pb(payload)
        case domain.Message():
            msg.message.CopyFrom(message_to_pb(payload))
        case ClaimChange():
            msg.claim.CopyFrom(pb.ClaimChange(field=payload.field, value=payload.value))
        case domain.Reminder():
            msg.reminder.CopyFrom(reminder_to_pb(payload))
        case domain.Synthesis():
            msg.synthesis.CopyFrom(synthesis_to_pb(payload))
    return msg


def call_event_from_pb(msg: pb.CallEvent) -> CallEvent | None:
    """The domain event; None for a kind this code does not know (a newer store)."""
    payload: EventPayload
    match msg.WhichOneof("kind"):
        case "state":
            payload = call_state_from_pb(msg.state)
        case "message":
            payload = message_from_pb(msg.message)
        case "claim":
            payload = ClaimChange(field=msg.claim.field, value=msg.claim.value)
        case "reminder":
            payload = reminder_from_pb(msg.reminder)
        case "synthesis":
            payload = synthesis_from_pb(msg.synthesis)
        case _:
            return None
    at = from_ts(msg, "at") or datetime.fromtimestamp(0, UTC)
    return CallEvent(call_id=msg.call_id, seq=msg.seq, at=at, payload=payload)


_JOB_STATES: dict[JobState, Any] = {
    s: store_pb2.JobState.Value(f"JOB_STATE_{s.name}") for s in JobState
}
_JOB_STATES_BACK = {v: k for k, v in _JOB_STATES.items()}


def job_state_to_pb(state: JobState | None) -> Any:
    return _JOB_STATES[state] if state is not None else store_pb2.JOB_STATE_UNSPECIFIED


def job_state_from_pb(value: int) -> JobState | None:
    """None for UNSPECIFIED (every state); ValueError for an unknown number."""
    if value == store_pb2.JOB_STATE_UNSPECIFIED:
        return None
    try:
        return _JOB_STATES_BACK[value]
    except KeyError:
        raise ValueError(f"unknown job state {value}") from None


def job_to_pb(job: Job) -> store_pb2.Job:
    return store_pb2.Job(
        job_id=job.job_id,
        kind=job.kind,
        call_id=job.call_id,
        state=job_state_to_pb(job.state),
        attempts=job.attempts,
        lease_token=job.lease_token,
        leased_by=job.leased_by,
        leased_until=ts(job.leased_until),
        available_at=ts(job.available_at),
        last_error=job.last_error,
        created_at=ts(job.created_at),
        updated_at=ts(job.updated_at),
        traceparent=job.traceparent,
    )


def job_from_pb(msg: store_pb2.Job) -> Job:
    return Job(
        job_id=msg.job_id,
        kind=msg.kind,
        call_id=msg.call_id,
        state=job_state_from_pb(msg.state) or JobState.PENDING,
        attempts=msg.attempts,
        lease_token=msg.lease_token,
        leased_by=msg.leased_by,
        leased_until=from_ts(msg, "leased_until"),
        available_at=from_ts(msg, "available_at"),
        last_error=msg.last_error,
        created_at=from_ts(msg, "created_at"),
        updated_at=from_ts(msg, "updated_at"),
        traceparent=msg.traceparent,
    )
