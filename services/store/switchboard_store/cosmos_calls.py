"""The items of a call's partition in ``calls``, and one change to them.

A call is one ``call`` document plus ``message`` items (``message:<seq>``) and
``event`` items (``event:<seq>``), all with ``call_id`` as partition key. The call
document carries what SQL keeps in side tables (claim values, reminders) and the
counters that hand out message and event seqs, the dialer lease (``lease_owner``,
``lease_expires_at``), the webhook and the post-call job of the latest ending (which
tells whether its report is complete); a message's turn is found through the
``turns`` map (a hash of persona and turn id → seq), so a resend costs a point read,
not a query. :class:`CallChange` collects what one write adds; the repository commits
it as a transactional batch whose first operation replaces the call document under its
ETag, so writers to one call take turns by retrying, and seqs never collide.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard import domain
from switchboard_store import rows
from switchboard_store.repository import EventPayload
from switchboard_store.validation import canonical_json

Item = dict[str, Any]
_SYSTEM = ("_rid", "_self", "_etag", "_ts", "_attachments")
# Fields later layouts added to the call document, with what a document written before
# them means (not leased, no webhook, no post-call job recorded).
_ADDED_FIELDS: dict[str, Any] = {
    "lease_owner": "",
    "lease_expires_at": None,
    "lease_address": "",
    "webhook": None,
    "post_call_job": "",
}


def message_id(seq: int) -> str:
    return f"message:{seq:010d}"


def event_id(seq: int) -> str:
    return f"event:{seq:010d}"


def turn_key(persona: domain.Persona, turn_id: str) -> str:
    """The ``turns`` key of a turn: a hash, as a turn id may hold any character."""
    return hashlib.sha256(f"{persona.value}\x00{turn_id}".encode()).hexdigest()[:32]


def created_key(created_at: datetime) -> str:
    """Sorts calls by creation time, ties in creation order (a stamp is fixed width)."""
    return f"{rows.stamp(created_at)}#{time.time_ns():020d}"


def without_system(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in _SYSTEM}


def current(call: Item) -> Item:
    """The call document with the fields of the current layout (defaults for a document
    an earlier layout, or a replica of an earlier release, wrote)."""
    return {**_ADDED_FIELDS, **call}


def new_call(
    call_id: str, request: domain.CallRequest, direction: domain.CallDirection, now: datetime
) -> Item:
    """The call document of a new call (seqs are handed out from ``message_seq`` and
    ``event_seq``)."""
    stamp = rows.stamp(now)
    return {
        "id": call_id,
        "call_id": call_id,
        "type": "call",
        "created_at": stamp,
        "created_key": created_key(now),
        "updated_at": stamp,
        "direction": direction.value,
        "state": domain.CallState.CREATED.value,
        "state_reason": "",
        "phone_number": request.phone_number,
        "initiate_json": canonical_json(request),
        "attempt": 1,
        "lang": "",
        "policy_state": "",
        "last_interaction_at": None,
        "synthesis_json": "",
        "next_action_json": "",
        "sms_summary": "",
        "synthesis_job": "",
        "claim": {},
        "reminders": [],
        "turns": {},
        "message_seq": 0,
        "event_seq": 0,
        "outbox": [],
        "outbox_pending": False,
        **_ADDED_FIELDS,
    }


def message_item(call_id: str, msg: domain.Message) -> Item:
    return {
        "id": message_id(msg.seq),
        "call_id": call_id,
        "type": "message",
        "seq": msg.seq,
        "created_at": rows.stamp_or_none(msg.created_at),
        "persona": msg.persona.value,
        "action": msg.action.value,
        "content": msg.content,
        "lang": msg.lang,
        "turn_id": msg.turn_id,
        "tool_calls_json": rows.tool_calls_json(msg),
        "interrupted": msg.interrupted,
    }


def call_from_items(call: Item, messages: list[Item]) -> domain.Call:
    """The domain call from its document and message items (any order)."""
    reminders = [rows.reminder_from_row(r) for r in call["reminders"]]
    ordered = sorted(messages, key=lambda m: int(m["seq"]))
    claim = dict(sorted(call["claim"].items()))
    return rows.call_from_row(
        current(call), claim, [rows.message_from_row(m) for m in ordered], reminders
    )


@dataclass
class CallChange:
    """One write to a call: its document as it will be, and the items written beside it."""

    call: Item
    now: datetime
    traceparent: str = ""
    items: list[tuple[str, Item]] = field(default_factory=list)  # (create | replace, item)
    latest_event: int = 0
    changed: bool = False
    # Messages this change writes, by seq: a batch may add a turn and resend it.
    pending: dict[int, domain.Message] = field(default_factory=dict)

    @property
    def call_id(self) -> str:
        return str(self.call["call_id"])

    def add_event(self, payload: EventPayload) -> int:
        seq = int(self.call["event_seq"]) + 1
        self.call["event_seq"] = seq
        kind, data = rows.encode_event(payload)
        self.items.append(
            (
                "create",
                {
                    "id": event_id(seq),
                    "call_id": self.call_id,
                    "type": "event",
                    "seq": seq,
                    "at": rows.stamp(self.now),
                    "kind": kind,
                    "payload_json": data,
                },
            )
        )
        self.latest_event = seq
        self.changed = True
        return seq

    def add_message(self, msg: domain.Message) -> domain.Message:
        """Appends ``msg`` with the next seq and the write's time; records its event."""
        seq = int(self.call["message_seq"]) + 1
        self.call["message_seq"] = seq
        stored = msg.model_copy(update={"seq": seq, "created_at": self.now})
        if msg.turn_id:
            self.call["turns"][turn_key(msg.persona, msg.turn_id)] = seq
        self.items.append(("create", message_item(self.call_id, stored)))
        self.pending[seq] = stored
        self.add_event(stored)
        return stored

    def replace_message(self, msg: domain.Message) -> None:
        item = message_item(self.call_id, msg)
        created_here = [i for i, (op, it) in enumerate(self.items) if it["id"] == item["id"]]
        if created_here:  # added by this change: write the new version instead
            self.items[created_here[0]] = (self.items[created_here[0]][0], item)
        else:
            self.items.append(("replace", item))
        self.pending[msg.seq] = msg
        self.add_event(msg)

    def set(self, **fields: Any) -> None:
        self.call.update(fields)
        self.changed = True

    def touch(self, interaction: bool = False) -> None:
        """Moves the call's ``updated_at`` (and ``last_interaction_at``) to now."""
        stamp = rows.stamp(self.now)
        self.set(updated_at=stamp, **({"last_interaction_at": stamp} if interaction else {}))
