"""Whole calls through the REST API, the dialer's virtual line, the brain and the store."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import yaml

from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import claim_mismatches
from tests.cluster.harness import simulate, unique_number

DEMO = Path(__file__).parents[2] / "scenarios" / "demo.yaml"

CLAIM = [
    {"name": "incident_datetime", "type": "datetime", "description": "when it happened"},
    {"name": "incident_description", "type": "text", "description": "what happened"},
    {"name": "policyholder_email", "type": "email", "description": "your e-mail address"},
]


def test_the_bundled_demo_fills_and_validates_the_whole_claim(cluster: Cluster) -> None:
    scenario = yaml.safe_load(DEMO.read_text())
    scenario["phone_number"] = unique_number()
    result = simulate(cluster, scenario)
    assert claim_mismatches(scenario["expect_claim"], result.call["claim"]) == []
    assert result.call["state"] == "ended"
    assert result.call["synthesis"]["short"]
    assert result.call["next_action"]["action"] == "case_closed"


def test_last_monday_and_a_spelled_out_email_are_stored_as_iso_datetime_and_address(
    cluster: Cluster,
) -> None:
    result = simulate(
        cluster,
        {
            "phone_number": unique_number(),
            "request": {"claim": CLAIM},
            "customer": [
                "It was last Monday.",
                "Somebody broke the back door.",
                "j o h n dot doe at example dot com",
                "goodbye",
            ],
        },
    )
    claim = result.call["claim"]
    # FIXED_NOW is Tuesday 2026-11-24 in California: last Monday is the 23rd, at midnight there.
    assert claim["incident_datetime"] == "2026-11-23T00:00:00-08:00"
    assert claim["policyholder_email"] == "john.doe@example.com"


def test_a_phone_number_is_stored_in_e164_and_a_repeat_request_repeats_the_question(
    cluster: Cluster,
) -> None:
    result = simulate(
        cluster,
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "callback_number", "type": "phone_number", "description": "a number"}
                ]
            },
            "customer": ["Sorry, can you repeat that?", "It's (415) 555-0142.", "bye"],
        },
    )
    assert result.call["claim"] == {"callback_number": "+14155550142"}
    bot_lines = [text for speaker, text in result.heard if speaker == "bot"]
    assert any("number" in line.lower() for line in bot_lines[1:3])


def test_numbers_typed_on_the_keypad_are_stored_as_one_answer_each(cluster: Cluster) -> None:
    result = simulate(
        cluster,
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "callback_number", "type": "phone_number", "description": "a number"},
                    {"name": "policy_number", "type": "text", "description": "the policy number"},
                ]
            },
            "customer": [{"dtmf": "4155550142#"}, {"dtmf": "98*7654#"}, "bye"],
        },
    )
    assert result.call["claim"] == {
        "callback_number": "+14155550142",
        "policy_number": "7654",  # the star cleared what was typed before it
    }
    typed = [m["content"] for m in result.call["messages"] if m["action"] == "dtmf"]
    assert typed == ["4155550142", "7654"]  # one turn per entry, never one per digit
    bot_lines = [text for speaker, text in result.heard if speaker == "bot"]
    assert sum("type it on your keypad" in line for line in bot_lines) == 2


def test_asking_for_a_person_transfers_the_call_to_the_agent_number(cluster: Cluster) -> None:
    result = simulate(
        cluster,
        {
            "phone_number": unique_number(),
            "request": {"claim": CLAIM, "agent_phone_number": "+14155550111"},
            "customer": ["I want to talk to a real person please."],
        },
    )
    assert ("system", "transferred to +14155550111") in result.heard
    assert result.end_reason == "transferred"
    assert result.call["next_action"]["action"] == "requires_expertise"


def test_unparseable_answers_are_asked_again_then_the_field_is_skipped(cluster: Cluster) -> None:
    result = simulate(
        cluster,
        {
            "phone_number": unique_number(),
            "request": {
                "claim": [
                    {"name": "contact_email", "type": "email", "description": "your e-mail"},
                    {"name": "details", "type": "text", "description": "any details"},
                ]
            },
            "customer": ["banana", "purple", "seven", "The roof leaks.", "bye"],
        },
    )
    assert "contact_email" not in result.call["claim"]
    assert result.call["claim"]["details"].lower().startswith("the roof leaks")


def test_a_caller_who_rings_back_within_the_window_resumes_the_same_conversation(
    cluster: Cluster, api: httpx.Client
) -> None:
    number = unique_number()
    first = simulate(
        cluster,
        {
            "phone_number": number,
            "request": {"claim": CLAIM},
            "customer": ["It happened yesterday at 9 am.", {"hangup": True}],
        },
    )
    assert first.call["state"] == "ended"
    assert first.call["claim"] == {"incident_datetime": "2026-11-23T09:00:00-08:00"}
    second = simulate(
        cluster,
        {
            "phone_number": number,
            "request": {"claim": CLAIM},
            "customer": ["The garage door was dented.", "jane at example dot org", "bye"],
        },
    )
    assert second.call["call_id"] == first.call["call_id"]
    assert second.call["claim"] == {
        "incident_datetime": "2026-11-23T09:00:00-08:00",
        "incident_description": "The garage door was dented.",
        "policyholder_email": "jane@example.org",
    }
    contents = [m["content"] for m in second.call["messages"] if m["persona"] == "human"]
    assert "It happened yesterday at 9 am." in contents  # history from the first call is kept


def test_a_number_with_no_phone_fails_as_no_answer(cluster: Cluster, api: httpx.Client) -> None:
    payload = {
        "bot_company": "Contoso",
        "bot_name": "Joe",
        "phone_number": unique_number(),
        "agent_phone_number": "+14155550199",
        "task": "Say hello.",
        "claim": CLAIM,
        "lang": "en-US",
    }
    created = api.post("/call", json=payload)
    assert created.status_code == 201, created.text
    call_id = created.json()["call_id"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        call = api.get(f"/call/{call_id}").json()
        if call["state"] == "failed":
            break
        time.sleep(0.2)
    assert call["state"] == "failed"
    assert call["state_reason"] == "no_answer"
