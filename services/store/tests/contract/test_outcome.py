"""Reminders (keyed by title) and the post-call synthesis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from switchboard import domain
from switchboard.errors import InvalidArgument
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

MakeRequest = Callable[..., domain.CallRequest]


@pytest.fixture
async def call_id(repo: CallRepository, make_request: MakeRequest) -> str:
    return (await repo.create_call(make_request(), domain.CallDirection.OUTBOUND)).call_id


async def test_a_reminder_with_a_known_title_is_updated_and_keeps_its_creation_time(
    repo: CallRepository, call_id: str, clock: VirtualClock
) -> None:
    due = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    first = await repo.upsert_reminder(
        call_id, domain.Reminder(title="Call back  the customer", description="about the car")
    )
    clock.advance(600)
    second = await repo.upsert_reminder(
        call_id, domain.Reminder(title="Call back the customer", due_at=due, owner="agent")
    )

    assert first.title == "Call back the customer"
    assert second.created_at == first.created_at
    assert second.updated_at == clock.now()
    assert second.due_at == due
    assert second.description == ""
    reminders = (await repo.get_call(call_id)).reminders
    assert reminders == [second]


async def test_a_reminder_needs_a_title(repo: CallRepository, call_id: str) -> None:
    with pytest.raises(InvalidArgument, match=r"reminder\.title"):
        await repo.upsert_reminder(call_id, domain.Reminder(title="  "))


async def test_the_synthesis_is_stored_with_next_action_and_sms_summary(
    repo: CallRepository, call_id: str
) -> None:
    synthesis = domain.Synthesis(
        short="a dented bumper", long="We will call you.", satisfaction="high"
    )
    action = domain.NextAction(action="case_closed", justification="all collected")
    call = await repo.save_synthesis(call_id, synthesis, action, "Claim received.")

    assert call.synthesis == synthesis
    assert call.next_action == action
    assert call.sms_summary == "Claim received."


@pytest.mark.parametrize(
    ("synthesis", "action", "named"),
    [
        (domain.Synthesis(), domain.NextAction(action="go_fishing"), "next_action.action"),
        (domain.Synthesis(), domain.NextAction(action=""), "next_action.action"),
        (
            domain.Synthesis(satisfaction="ecstatic"),
            domain.NextAction(action="case_closed"),
            "satisfaction",
        ),
    ],
)
async def test_an_unknown_next_action_or_satisfaction_is_refused(
    repo: CallRepository,
    call_id: str,
    synthesis: domain.Synthesis,
    action: domain.NextAction,
    named: str,
) -> None:
    with pytest.raises(InvalidArgument, match=named):
        await repo.save_synthesis(call_id, synthesis, action)
    assert (await repo.get_call(call_id)).synthesis is None


async def test_a_nul_character_is_stored_exactly_or_refused_as_invalid_never_half_written(
    repo: CallRepository, call_id: str
) -> None:
    odd = domain.Reminder(title="Call back", description="before\x00after")
    try:
        stored = await repo.upsert_reminder(call_id, odd)
    except InvalidArgument as exc:  # PostgreSQL text cannot hold NUL (README)
        assert "NUL" in str(exc)
        assert (await repo.get_call(call_id)).reminders == []
    else:
        assert (await repo.get_call(call_id)).reminders == [stored]
        assert stored.description == "before\x00after"
