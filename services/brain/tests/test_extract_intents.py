"""Control intents, yes/no and free-text cleaning."""

from __future__ import annotations

import pytest

from switchboard_brain.extract.intents import Intent, detect_intent, yes_no
from switchboard_brain.extract.text import clean_text


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("I want to talk to a person", Intent.HUMAN),
        ("can I speak with a human please", Intent.HUMAN),
        ("put me through to an agent", Intent.HUMAN),
        ("Agent!", Intent.HUMAN),
        ("Goodbye", Intent.GOODBYE),
        ("ok bye", Intent.GOODBYE),
        ("that's all", Intent.GOODBYE),
        ("I have to go", Intent.GOODBYE),
        ("can you repeat", Intent.REPEAT),
        ("sorry, what?", Intent.REPEAT),
        ("I didn't catch that", Intent.REPEAT),
        ("could you say that again", Intent.REPEAT),
        ("I don't know", Intent.DONT_KNOW),
        ("I don\u2019t remember", Intent.DONT_KNOW),
        ("no idea", Intent.DONT_KNOW),
        ("skip", Intent.DONT_KNOW),
    ],
)
def test_control_intents_are_recognised(said: str, intent: Intent) -> None:
    assert detect_intent(said) is intent


@pytest.mark.parametrize(
    "said",
    [
        "the agent was rude",
        "my name is John",
        "I was trying to pass a truck",
        "last Monday",
        "john at example dot com",
    ],
)
def test_ordinary_answers_carry_no_control_intent(said: str) -> None:
    assert detect_intent(said) is None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("yes", True),
        ("Yeah, sure", True),
        ("that's right", True),
        ("no", False),
        ("Nope.", False),
        ("no idea", None),
        ("maybe", None),
    ],
)
def test_yes_and_no_are_told_apart(said: str, expected: bool | None) -> None:
    assert yes_no(said) is expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Um, my name is uh John Smith.", "John Smith."),
        ("The garage door was dented.", "The garage door was dented."),
        ("it's a broken windshield", "a broken windshield"),
        ("So, my policy number is AB 1234", "AB 1234"),
        ("my car was hit from behind", "my car was hit from behind"),
        ("Uh...", ""),
    ],
)
def test_free_text_loses_fillers_and_lead_ins(said: str, expected: str) -> None:
    assert clean_text(said) == expected
