"""The write rules both backends apply, checked without a database."""

from __future__ import annotations

import pytest

from switchboard import domain
from switchboard.errors import FailedPrecondition
from switchboard.jobs import post_call_job_id
from switchboard_store.repository import ClaimChange
from switchboard_store.write_rules import merge_claim, replacement, state_change


def _row(state: domain.CallState, attempt: int = 1) -> dict[str, object]:
    return {"state": state.value, "state_reason": "before", "attempt": attempt, "lang": "fr-FR"}


def test_a_field_set_twice_to_one_value_in_an_update_is_written_once() -> None:
    twice = [ClaimChange("plate", "AB-123"), ClaimChange("plate", "AB-123")]
    result, writes = merge_claim({}, twice)
    assert writes == [ClaimChange("plate", "AB-123")]
    assert result.claim == {"plate": "AB-123"}
    assert result.applied == twice


def test_a_value_already_stored_is_applied_but_not_written() -> None:
    result, writes = merge_claim({"plate": "AB-123"}, [ClaimChange("plate", "AB-123")])
    assert writes == []
    assert result.applied == [ClaimChange("plate", "AB-123")]


def test_ending_a_connected_call_queues_its_post_call_job_and_a_hangup_line() -> None:
    change = state_change("c1", _row(domain.CallState.IN_PROGRESS, 2), domain.CallState.ENDED, "")
    assert change.post_call_job_id == post_call_job_id("c1", 2)
    assert change.line is not None and change.line.action is domain.MessageAction.HANGUP
    assert change.line.lang == "fr-FR"
    assert change.added_attempts == 0


def test_dialling_an_ended_call_again_is_a_new_attempt() -> None:
    change = state_change("c1", _row(domain.CallState.ENDED), domain.CallState.DIALING, "")
    assert change.added_attempts == 1
    assert change.line is None and change.post_call_job_id is None


def test_an_ended_call_cannot_go_back_to_created() -> None:
    with pytest.raises(FailedPrecondition):
        state_change("c1", _row(domain.CallState.ENDED), domain.CallState.CREATED, "")


def test_the_same_state_without_a_reason_keeps_the_stored_reason() -> None:
    change = state_change("c1", _row(domain.CallState.RINGING), domain.CallState.RINGING, "")
    assert not change.changed and change.reason == "before"


def test_a_resent_message_is_no_replacement() -> None:
    stored = domain.Message(persona=domain.Persona.ASSISTANT, content="Bonjour", turn_id="t1")
    assert replacement(stored, stored) is None
    edited = stored.model_copy(update={"content": "Bonjour, ici", "interrupted": True})
    assert replacement(stored, edited) == edited
