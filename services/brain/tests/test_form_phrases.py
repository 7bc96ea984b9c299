"""How the form policy words questions and confirmations for the caller."""

from __future__ import annotations

import pytest

from switchboard.domain import ClaimField, ClaimFieldType
from switchboard_brain.policy.phrases import (
    confirmation,
    label,
    question,
    recap,
    spoken_label,
    task_clause,
)
from switchboard_testing.brain_fakes import call_request

TEXT, WHEN, EMAIL, PHONE = (
    ClaimFieldType.TEXT,
    ClaimFieldType.DATETIME,
    ClaimFieldType.EMAIL,
    ClaimFieldType.PHONE_NUMBER,
)


def field(description: str, kind: ClaimFieldType = TEXT, name: str = "some_field") -> ClaimField:
    return ClaimField(name=name, type=kind, description=description)


@pytest.mark.parametrize(
    ("description", "kind", "asked"),
    [
        ("the customer's e-mail address", EMAIL, "Could you tell me your e-mail address?"),
        ("The caller's date of birth", WHEN, "Could you tell me your date of birth?"),
        ("Full name of the policyholder", TEXT, "Could you tell me your full name?"),
        ("Customer phone number", PHONE, "Could you tell me your phone number?"),
        ("Their preferred callback time", WHEN, "Could you tell me your preferred callback time?"),
        ("Ask the customer for their policy number", TEXT, "Could you tell me your policy number?"),
        ("Where the customer was when it happened", TEXT,
         "Could you tell me where you were when it happened?"),
        ("Is the customer injured?", TEXT, "Are you injured?"),
        ("Does the caller have a police report?", TEXT, "Do you have a police report?"),
        ("When did the customer notice the damage?", WHEN, "When did you notice the damage?"),
        ("When did the incident happen?", WHEN, "When did the incident happen?"),
        ("Date and time of the incident (ISO 8601)", WHEN,
         "Could you tell me the date and time of the incident?"),
        ("The customer's e-mail address, e.g. john@example.com", EMAIL,
         "Could you tell me your e-mail address?"),
        ("e-mail", EMAIL, "Could you tell me your e-mail?"),
        ("a phone number where an adjuster can reach you", PHONE,
         "Could you tell me a phone number where an adjuster can reach you?"),
        ("what happened", TEXT, "Could you tell me what happened?"),
        ("Name of the insured person", TEXT, "Could you tell me your name?"),
        ("Date of the customer's last visit", WHEN,
         "Could you tell me the date of your last visit?"),
        ("The person to contact in an emergency", TEXT,
         "Could you tell me the person to contact in an emergency?"),
        ("What is their date of birth", WHEN, "What is your date of birth?"),
        ("How many people were injured", TEXT, "Could you tell me how many people were injured?"),
    ],
)  # fmt: skip
def test_questions_are_phrased_for_the_caller_from_the_description(
    description: str, kind: ClaimFieldType, asked: str
) -> None:
    assert question(field(description, kind)) == asked


def test_a_field_without_description_is_asked_by_its_name() -> None:
    assert question(field("", TEXT, name="policy_number")) == "Could you tell me the policy number?"


def test_the_operator_label_stays_as_written_while_the_caller_hears_your() -> None:
    email = field("the customer's e-mail address", EMAIL)

    assert label(email) == "the customer's e-mail address"
    assert spoken_label(email) == "your e-mail address"


def test_a_recap_names_fields_for_the_caller() -> None:
    email = field("the customer's e-mail address", EMAIL, name="email")
    request = call_request(claim=(email,))

    assert recap(request, {"email": "a@b.co"}) == [
        "To sum up, I noted your e-mail address: a@b.co."
    ]


def test_a_recap_names_free_text_without_reading_it_back() -> None:
    what = field("what happened", TEXT, name="what")
    email = field("your e-mail address", EMAIL, name="email")
    request = call_request(claim=(what, email))

    assert recap(request, {"what": "my laptop got wet", "email": "a@b.co"}) == [
        "To sum up, I noted your e-mail address: a@b.co.",
        "I also noted what happened.",
    ]
    assert recap(request, {"what": "my laptop got wet"}) == [
        "To sum up, I noted what happened.",
        "We still need your e-mail address; you can send it to us later.",
    ]


def test_free_text_is_confirmed_without_echoing_the_callers_words() -> None:
    what = field("What happened, in a few words")

    assert confirmation([(what, "my laptop was stolen from my car")]) == (
        "Thank you, I've noted what happened."
    )
    assert confirmation([(field("what"), "my laptop.")]) == "Thank you, I've noted that."


def test_a_short_name_or_reference_is_read_back() -> None:
    assert confirmation([(field("your name"), "John Smith")]) == "Got it, John Smith."
    assert confirmation([(field("policy number"), "AB-1234")]) == "Got it, AB-1234."


def test_several_values_are_confirmed_in_one_sentence() -> None:
    when, email = field("when", WHEN), field("mail", EMAIL)
    stored = [(when, "2026-11-23T15:00:00-05:00"), (email, "john.smith@example.com")]

    assert confirmation(stored) == (
        "Got it, the 23rd of November 2026 at 3 pm, and john.smith@example.com."
    )
    assert confirmation([(field("What happened"), "a tree fell on it"), stored[0]]) == (
        "Thank you, I've noted what happened, and the 23rd of November 2026 at 3 pm."
    )


@pytest.mark.parametrize(
    ("task", "clause"),
    [
        ("Help the customer file a claim", "I'm calling to help you file a claim."),
        (
            "The customer reported water damage in their kitchen.",
            "I'm calling because you reported water damage in your kitchen.",
        ),
        ("The customer's car was hit", "I'm calling because your car was hit."),
        ("Our records show a claim", "I'm calling about the following: Our records show a claim."),
    ],
)  # fmt: skip
def test_the_task_is_said_to_the_caller(task: str, clause: str) -> None:
    assert task_clause(task) == clause
