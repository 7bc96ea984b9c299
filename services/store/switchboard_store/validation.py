"""What the store accepts: every check raises ``InvalidArgument`` naming the field and the fix.

These run before anything is written, in the repository (not the gRPC edge), so every
backend enforces the same rules and a caller can never store something unreadable.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard import domain
from switchboard.call_leases import (
    MAX_LEASE_ADDRESS_CHARS,
    MAX_LEASE_SEC,
    MAX_LEASES_PER_RENEWAL,
    MAX_ORPHANS_PER_SWEEP,
    CallLease,
)
from switchboard.claims import check_field_name
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164

MAX_CONTENT_BYTES = 16 * 1024
MAX_SHORT_TEXT = 200
MAX_TASK = 8000
MAX_REASON = 1000
MAX_CLAIM_FIELDS = 100
MAX_MESSAGES_PER_REQUEST = 200
MAX_TOOL_CALLS = 32
MAX_POLICY_STATE_BYTES = 256 * 1024
MAX_LIST_LIMIT = 100
DEFAULT_TOP_K = 5
MAX_TOP_K = 50
MAX_CHUNKS_PER_REQUEST = 1000
MAX_EMBEDDING_DIMENSION = 4096
MAX_CHUNK_CONTENT_BYTES = 64 * 1024
# Larger windows are clamped: a century covers every sensible callback window and keeps
# the date arithmetic far from datetime's limits.
MAX_WINDOW_HOURS = 24 * 365 * 100.0
SATISFACTIONS = ("terrible", "low", "partial", "high", "unknown")
UUID_EXAMPLE = "6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90"
_LANG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


def call_id(value: str) -> str:
    """The canonical (lower-case, hyphenated) form of a call id."""
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError) as exc:
        raise InvalidArgument(f"call_id must be a UUID, e.g. {UUID_EXAMPLE}") from exc


def text(value: str, what: str, limit: int = MAX_SHORT_TEXT, required: bool = False) -> str:
    if required and not value.strip():
        raise InvalidArgument(f"{what} is required")
    if len(value) > limit:
        raise InvalidArgument(f"{what} is longer than {limit} characters")
    return value


def utf8_bytes(value: str, what: str, limit: int) -> str:
    if len(value) > limit or len(value.encode("utf-8", "surrogatepass")) > limit:
        raise InvalidArgument(f"{what} is larger than {limit // 1024} KiB")
    return value


def lang(value: str, what: str = "lang") -> str:
    if value and not _LANG.match(value):
        raise InvalidArgument(f"{what} must be a BCP 47 language tag, e.g. en-US")
    return value


def call_request(
    req: domain.CallRequest, direction: domain.CallDirection = domain.CallDirection.OUTBOUND
) -> domain.CallRequest:
    """The request as the store keeps it (numbers in E.164), or InvalidArgument naming the field.

    An inbound call may have no number: the caller withheld it (it can never be resumed).
    """
    anonymous = direction is domain.CallDirection.INBOUND and not req.phone_number.strip()
    phone = "" if anonymous else parse_e164(req.phone_number, what="initiate.phone_number")
    agent = (
        parse_e164(req.agent_phone_number, what="initiate.agent_phone_number")
        if req.agent_phone_number.strip()
        else ""
    )
    text(req.bot_company, "initiate.bot_company")
    text(req.bot_name, "initiate.bot_name")
    text(req.task, "initiate.task", MAX_TASK)
    text(req.voice, "initiate.voice")
    lang(req.lang, "initiate.lang")
    if not (0.75 <= req.prosody_rate <= 1.25):
        raise InvalidArgument("initiate.prosody_rate must be between 0.75 and 1.25, e.g. 1.0")
    if req.timezone:
        try:
            ZoneInfo(req.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidArgument(
                "initiate.timezone must be an IANA time zone name, e.g. Europe/Paris"
            ) from exc
    if len(req.claim) > MAX_CLAIM_FIELDS:
        raise InvalidArgument(f"initiate.claim has more than {MAX_CLAIM_FIELDS} fields")
    seen: set[str] = set()
    for claim_field in req.claim:
        check_field_name(claim_field.name)
        if claim_field.name in seen:
            raise InvalidArgument(f"initiate.claim: field {claim_field.name!r} is listed twice")
        seen.add(claim_field.name)
        text(claim_field.description, f"initiate.claim[{claim_field.name!r}].description", 1000)
    return req.model_copy(update={"phone_number": phone, "agent_phone_number": agent})


def canonical_json(req: domain.CallRequest) -> str:
    """The request as JSON with sorted keys: equal requests give equal strings."""
    return json.dumps(
        req.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def window_hours(value: float) -> float:
    if math.isnan(value) or value < 0:
        raise InvalidArgument("within_hours must be 0 (disabled) or a positive number of hours")
    return min(value, MAX_WINDOW_HOURS)


def list_limit(value: int) -> int:
    if value < 0:
        raise InvalidArgument(
            f"limit must be between 1 and {MAX_LIST_LIMIT} (0 means {MAX_LIST_LIMIT})"
        )
    return min(value or MAX_LIST_LIMIT, MAX_LIST_LIMIT)


def list_offset(value: int) -> int:
    if value < 0:
        raise InvalidArgument("offset must be 0 or more (the number of newest matches to skip)")
    return value


def event_limit(value: int, most: int) -> int:
    if value < 0:
        raise InvalidArgument(f"limit must be between 1 and {most} (0 means {most})")
    return min(value or most, most)


def lease_sec(value: float, what: str = "lease_sec") -> float:
    if math.isnan(value) or not 0 < value <= MAX_LEASE_SEC:
        raise InvalidArgument(f"{what} must be above 0 and at most {MAX_LEASE_SEC:.0f}")
    return value


def call_lease(lease: CallLease, what: str = "lease") -> CallLease:
    """A dialer replica's lease: it names itself, lasts a sensible time, and its address
    (if any) is one ``host:port`` (e.g. ``10.0.0.7:50051``)."""
    text(lease.owner, f"{what}.owner", required=True)
    lease_sec(lease.lease_sec, f"{what}.lease_sec")
    text(lease.address, f"{what}.address", MAX_LEASE_ADDRESS_CHARS)
    if lease.address and (lease.address != lease.address.strip() or ":" not in lease.address):
        raise InvalidArgument(f"{what}.address must be host:port, e.g. 10.0.0.7:50051")
    return lease


def call_ids(values: Sequence[str], what: str = "call_ids") -> list[str]:
    """Canonical, distinct call ids, in the order given; at most one renewal's worth."""
    if len(values) > MAX_LEASES_PER_RENEWAL:
        raise InvalidArgument(f"{what} holds at most {MAX_LEASES_PER_RENEWAL} call ids")
    return list(dict.fromkeys(call_id(v) for v in values))


def orphan_limit(value: int) -> int:
    if value < 0:
        raise InvalidArgument(
            f"limit must be between 1 and {MAX_ORPHANS_PER_SWEEP} (0 means {MAX_LIST_LIMIT})"
        )
    return min(value or MAX_LIST_LIMIT, MAX_ORPHANS_PER_SWEEP)


def message(msg: domain.Message, index: int) -> domain.Message:
    what = f"messages[{index}]"
    utf8_bytes(msg.content, f"{what}.content", MAX_CONTENT_BYTES)
    text(msg.turn_id, f"{what}.turn_id")
    lang(msg.lang, f"{what}.lang")
    if len(msg.tool_calls) > MAX_TOOL_CALLS:
        raise InvalidArgument(f"{what} has more than {MAX_TOOL_CALLS} tool calls")
    for tool in msg.tool_calls:
        text(tool.tool_id, f"{what}.tool_calls.tool_id")
        text(tool.name, f"{what}.tool_calls.name")
        utf8_bytes(tool.arguments_json, f"{what}.tool_calls.arguments_json", MAX_CONTENT_BYTES)
        utf8_bytes(tool.result, f"{what}.tool_calls.result", MAX_CONTENT_BYTES)
    return msg


def messages(msgs: Sequence[domain.Message], policy_state: str | None) -> None:
    if len(msgs) > MAX_MESSAGES_PER_REQUEST:
        raise InvalidArgument(f"at most {MAX_MESSAGES_PER_REQUEST} messages per request")
    for index, msg in enumerate(msgs):
        message(msg, index)
    if policy_state is not None:
        utf8_bytes(policy_state, "policy_state", MAX_POLICY_STATE_BYTES)


def reminder(value: domain.Reminder) -> domain.Reminder:
    title = " ".join(value.title.split())
    text(title, "reminder.title", required=True)
    text(value.description, "reminder.description", MAX_TASK)
    text(value.owner, "reminder.owner")
    return value.model_copy(update={"title": title})


def synthesis(value: domain.Synthesis, next_action: domain.NextAction, sms_summary: str) -> None:
    text(value.short, "synthesis.short", 500)
    utf8_bytes(value.long, "synthesis.long", MAX_CONTENT_BYTES)
    utf8_bytes(
        value.improvement_suggestions, "synthesis.improvement_suggestions", MAX_CONTENT_BYTES
    )
    if value.satisfaction not in SATISFACTIONS:
        raise InvalidArgument(f"synthesis.satisfaction must be one of {', '.join(SATISFACTIONS)}")
    if next_action.action not in domain.NEXT_ACTIONS:
        raise InvalidArgument(f"next_action.action must be one of {', '.join(domain.NEXT_ACTIONS)}")
    utf8_bytes(next_action.justification, "next_action.justification", MAX_CONTENT_BYTES)
    utf8_bytes(sms_summary, "sms_summary", MAX_CONTENT_BYTES)


def top_k(value: int) -> int:
    if value < 0:
        raise InvalidArgument(f"top_k must be between 1 and {MAX_TOP_K} (0 means {DEFAULT_TOP_K})")
    return min(value or DEFAULT_TOP_K, MAX_TOP_K)


def min_score(value: float) -> float:
    if math.isnan(value):
        raise InvalidArgument("min_score must be a number between -1 and 1")
    return value
