"""ACS callback and Event Grid payloads, parsed into what the provider acts on.

Callbacks are JSON arrays of CloudEvents (``type`` ``Microsoft.Communication.X``,
``data.callConnectionId``, ``data.operationContext``); Event Grid delivers arrays of
its own schema (``eventType``, ``data.incomingCallContext``, ``data.from``…). A
malformed body is an ``InvalidArgument``; an event of a kind not listed here is
skipped, as ACS adds kinds over time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from switchboard.errors import InvalidArgument

PREFIX = "Microsoft.Communication."
INCOMING_CALL = "Microsoft.Communication.IncomingCall"


@dataclass(frozen=True)
class CallEvent:
    """One Call Automation callback: ``kind`` without the prefix (``CallConnected``…)."""

    event_id: str
    kind: str
    connection_id: str
    operation_context: str = ""


@dataclass(frozen=True)
class IncomingCall:
    event_id: str
    from_number: str
    to_number: str
    incoming_call_context: str


def _array(body: bytes) -> list[Any]:
    try:
        parsed = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("the body must be JSON") from exc
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
        raise InvalidArgument("the body must be a JSON array of events")
    return parsed


def parse_callbacks(body: bytes) -> list[CallEvent]:
    events = []
    for item in _array(body):
        kind = str(item.get("type") or "")
        data = item.get("data") if isinstance(item.get("data"), dict) else {}
        if not kind.startswith(PREFIX) or not item.get("id"):
            continue
        events.append(
            CallEvent(
                event_id=str(item["id"]),
                kind=kind.removeprefix(PREFIX),
                connection_id=str(data.get("callConnectionId") or ""),
                operation_context=str(data.get("operationContext") or ""),
            )
        )
    return events


def _phone(party: Any) -> str:
    """``{"phoneNumber": {"value": "+1…"}}`` (or the raw id ``4:+1…``) → E.164, or ""."""
    if not isinstance(party, dict):
        return ""
    number = party.get("phoneNumber")
    if isinstance(number, dict) and number.get("value"):
        return str(number["value"])
    raw = str(party.get("rawId") or "")
    return raw[2:] if raw.startswith("4:") else ""


def parse_incoming(body: bytes) -> list[IncomingCall]:
    calls = []
    for item in _array(body):
        if item.get("eventType") != INCOMING_CALL or not item.get("id"):
            continue
        data = item.get("data") if isinstance(item.get("data"), dict) else {}
        context = str(data.get("incomingCallContext") or "")
        if not context:
            raise InvalidArgument("an IncomingCall event needs data.incomingCallContext")
        calls.append(
            IncomingCall(
                event_id=str(item["id"]),
                from_number=_phone(data.get("from")),
                to_number=_phone(data.get("to")),
                incoming_call_context=context,
            )
        )
    return calls
