"""Call events survive the wire unchanged, every kind of payload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard import convert, domain
from switchboard.call_events import CallEvent, ClaimChange, EventPayload
from switchboard.v1 import common_pb2

AT = datetime(2026, 3, 3, 10, 0, 0, 123000, tzinfo=UTC)

PAYLOADS: list[EventPayload] = [
    domain.CallState.ENDED,
    domain.Message(
        persona=domain.Persona.HUMAN, content="Hello", seq=3, created_at=AT, turn_id="t1"
    ),
    ClaimChange("email", "jane@example.com"),
    domain.Reminder(title="Call back", due_at=AT, created_at=AT, updated_at=AT),
    domain.Synthesis(short="the claim", long="All done.", satisfaction="high"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_every_event_kind_round_trips_through_the_wire(payload: EventPayload) -> None:
    event = CallEvent(call_id="c-1", seq=7, at=AT, payload=payload)
    assert convert.call_event_from_pb(convert.call_event_to_pb(event)) == event


def test_an_event_kind_this_code_does_not_know_is_none() -> None:
    assert convert.call_event_from_pb(common_pb2.CallEvent(call_id="c-1", seq=1)) is None
