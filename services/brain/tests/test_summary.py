"""The deterministic post-call report."""

from __future__ import annotations

import json

import pytest

from switchboard.domain import NEXT_ACTIONS, Call, Message, Persona, ToolCall
from switchboard_brain.summary import summarize, task_gist
from switchboard_testing.brain_fakes import call_request

FILLED = {
    "incident_datetime": "2026-11-23T00:00:00-05:00",
    "email": "john.smith@example.com",
    "callback_phone": "+14155550100",
    "description": "a truck hit my parked car",
}


def finished_call(claim: dict[str, str], *tools: str, policy_state: str = "") -> Call:
    agent_tools = [
        ToolCall(tool_id=f"x-{name}", name=name, arguments_json=json.dumps({"reason": "done"}))
        for name in tools
    ]
    return Call(
        call_id="call-1",
        initiate=call_request(),
        claim=claim,
        policy_state=policy_state,
        messages=[
            Message(persona=Persona.ASSISTANT, content="Hello.", turn_id="g"),
            Message(persona=Persona.HUMAN, content="yesterday", turn_id="t1"),
            Message(
                persona=Persona.ASSISTANT, content="Bye.", turn_id="t1", tool_calls=agent_tools
            ),
        ],
    )


def test_a_call_with_every_field_filled_is_closed_with_high_satisfaction() -> None:
    report = summarize(finished_call(FILLED, "end_call"))

    assert report.next_action.action == "case_closed"
    assert report.synthesis.satisfaction == "high"


def test_a_transfer_request_requires_expertise_and_is_partially_satisfying() -> None:
    report = summarize(finished_call({"email": "john.smith@example.com"}, "transfer"))

    assert report.next_action.action == "requires_expertise"
    assert report.synthesis.satisfaction == "partial"


def test_missing_fields_mean_the_customer_will_send_them() -> None:
    report = summarize(finished_call({"email": "john.smith@example.com"}, "end_call"))

    assert report.next_action.action == "customer_will_send_info"
    assert "callback phone" in report.next_action.justification


def test_a_caller_who_hung_up_early_is_counted_as_low_satisfaction() -> None:
    assert summarize(finished_call({})).synthesis.satisfaction == "low"


def test_a_call_without_any_conversation_has_unknown_satisfaction_and_high_priority() -> None:
    call = Call(call_id="call-1", initiate=call_request())

    report = summarize(call)

    assert report.synthesis.satisfaction == "unknown"
    assert report.next_action.action == "high_priority"


def test_a_call_an_answering_machine_took_is_to_be_made_again() -> None:
    call = Call(
        call_id="call-1",
        initiate=call_request(),
        state_reason="voicemail",
        messages=[
            Message(persona=Persona.ASSISTANT, content="", turn_id="g", interrupted=True),
            Message(persona=Persona.TOOL, content="answered_by: machine"),
            Message(persona=Persona.ASSISTANT, content="We will call again. Goodbye."),
        ],
    )

    report = summarize(call)

    assert report.next_action.action == "call_again"
    assert report.next_action.action in NEXT_ACTIONS
    assert "voicemail" in report.synthesis.long
    assert "talked" not in report.sms_summary


def test_a_person_who_talked_on_a_call_that_later_hit_voicemail_is_judged_on_the_talk() -> None:
    call = finished_call(FILLED, "end_call").model_copy(update={"state_reason": "voicemail"})

    assert summarize(call).next_action.action == "case_closed"


@pytest.mark.parametrize("tools", [(), ("end_call",), ("transfer",)])
def test_the_report_never_contains_the_claim_values(tools: tuple[str, ...]) -> None:
    report = summarize(finished_call(FILLED, *tools))

    text = " ".join([*report.synthesis.model_dump().values(), report.sms_summary])
    assert all(value not in text for value in FILLED.values())
    assert report.next_action.action in NEXT_ACTIONS


def test_fields_that_needed_retries_become_an_improvement_suggestion() -> None:
    state = json.dumps({"retries": {"email": 2}})

    report = summarize(finished_call(FILLED, "end_call", policy_state=state))

    assert "several tries for your e-mail address" in report.synthesis.improvement_suggestions


def test_the_sms_is_signed_by_the_bot() -> None:
    sms = summarize(finished_call(FILLED, "end_call")).sms_summary

    assert sms.startswith("Hello, I understand you talked with Contoso Insurance about")
    assert sms.endswith("Amelia from Contoso Insurance.")


@pytest.mark.parametrize(
    ("task", "gist"),
    [
        ("Collect the details of a car insurance claim.", "the details of a car insurance claim"),
        ("Check your home insurance renewal", "the home insurance renewal"),
        ("The customer had a water leak; gather details", "the customer had a water leak"),
        ("Help", "the call"),
        (
            "Help the customer file a claim for the water damage in their kitchen.",
            "a claim for the water damage in your kitchen",
        ),
        ("Remind them of their appointment tomorrow", "the appointment tomorrow"),
    ],
)
def test_the_short_synthesis_is_a_few_words_starting_with_a_determiner(
    task: str, gist: str
) -> None:
    assert task_gist(task) == gist
