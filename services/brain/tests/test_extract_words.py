"""Spoken numbers, e-mail addresses and phone numbers."""

from __future__ import annotations

import pytest

from switchboard_brain.extract.emails import parse_email
from switchboard_brain.extract.numbers import words_to_digits
from switchboard_brain.extract.phones import parse_phone, speak_phone, spoken_digits


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("twenty third", "23th"),
        ("two thousand twenty six", "2026"),
        ("two thousand and five", "2005"),
        ("one hundred and five", "105"),
        ("twenty twenty six", "20 26"),
        ("the third of march", "the 3th of march"),
        ("half past four", "half past 4"),
        ("thirty-first", "31th"),
        ("wait a second", "wait a second"),
    ],
)
def test_number_words_become_digits(said: str, expected: str) -> None:
    assert words_to_digits(said) == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("john dot smith at example dot com", "john.smith@example.com"),
        ("j o h n at gmail dot com", "john@gmail.com"),
        ("john underscore smith at example dot co dot uk", "john_smith@example.co.uk"),
        ("john.smith@example.com", "john.smith@example.com"),
        ("My email is John.Smith@Example.com.", "john.smith@example.com"),
        (
            "sure it is jane dash doe at mail dot example dot org thanks",
            "jane-doe@mail.example.org",
        ),
        ("it's mary at sign outlook dot com", "mary@outlook.com"),
        ("a b c one two three at yahoo dot fr", "abc123@yahoo.fr"),
        ("m a double t at x dot io", "matt@x.io"),
        ("um my e-mail address is bob plus claims at example dot com", "bob+claims@example.com"),
    ],
)
def test_spoken_and_written_email_addresses_are_recognised(said: str, expected: str) -> None:
    assert parse_email(said) == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("it's john dot smith that example dot com", "john.smith@example.com"),
        ("john dot smith add example dot com", "john.smith@example.com"),
        ("jane had mail dot example dot org, thanks", "jane@mail.example.org"),
    ],
)
def test_an_at_the_recogniser_misheard_is_read_as_at_when_a_domain_follows(
    said: str, expected: str
) -> None:
    assert parse_email(said) == expected


@pytest.mark.parametrize(
    "said",
    [
        "I don't know",
        "at home",
        "john at example",
        "john smith",
        "at dot com",
        "I think that is fine",
        "that example dot com",
        "that's john at home, and we had a pipe dot",
    ],
)
def test_answers_without_an_email_address_give_nothing(said: str) -> None:
    assert parse_email(said) is None


@pytest.mark.parametrize(
    ("said", "region", "expected"),
    [
        ("four one five five five five zero one zero zero", "US", "+14155550100"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("four one five, five five five, oh one oh oh", "US", "+14155550100"),
        ("four one five double five five oh one double oh", "US", "+14155550100"),
        ("my number is 415 555 0100 thanks", "US", "+14155550100"),
        # As whisper writes "four one five…": a homophone right before the digits.
        ("You can call me it for 1-5-555-0198.", "US", "+14155550198"),
        ("it's for one five, five five five, oh one nine ate", "US", "+14155550198"),
        ("plus four four two oh seven nine four six oh nine five eight", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("four fifteen five five five zero one hundred", "US", "+14155550100"),
        ("00 44 20 7946 0958", "FR", "+442079460958"),
    ],
)
def test_phone_numbers_become_e164_in_the_callee_country(
    said: str, region: str, expected: str
) -> None:
    assert parse_phone(said, region) == expected


@pytest.mark.parametrize("said", ["I don't know", "twelve", "020 7946 0958", "1234567"])
def test_answers_without_a_valid_number_give_nothing(said: str) -> None:
    assert parse_phone(said, "US") is None


def test_triple_repeats_a_digit_three_times() -> None:
    assert spoken_digits("triple five") == "555"


def test_numbers_are_read_back_grouped() -> None:
    assert speak_phone("+14155550100") == "plus 1, 4 1 5, 5 5 5, 0 1 0 0"
