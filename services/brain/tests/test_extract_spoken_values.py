"""Values as callers really say them: several in one answer, self-corrections, digits
as "oh", "double", "triple", and phone numbers read in their country's groups."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard_brain.extract.corrections import attempts, is_correction, last_attempt
from switchboard_brain.extract.dates import parse_datetime
from switchboard_brain.extract.emails import find_emails, parse_email
from switchboard_brain.extract.phones import find_phones, parse_phone, spoken_digits
from switchboard_brain.extract.spans import mask


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("double five", "55"),
        ("triple oh", "000"),
        ("treble seven", "777"),
        ("oh oh seven", "007"),
        ("double oh seven", "007"),
        ("five five five, oh one double oh", "5550100"),
        ("nought two oh", "020"),
    ],
)
def test_oh_double_and_triple_are_digits(said: str, digits: str) -> None:
    assert spoken_digits(said) == digits


@pytest.mark.parametrize(
    "said",
    ["oh, I see", "oh well, that is all", "a double room", "the o in john"],
)
def test_oh_and_double_without_digits_next_to_them_stay_words(said: str) -> None:
    assert spoken_digits(said) == ""


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("four hundred fifteen", "415"),
        ("eight hundred and five", "805"),
        ("oh one hundred", "0100"),
        ("fifteen hundred", "1500"),
        ("thirty four", "34"),
        ("thirty-four", "34"),
        ("twenty, one", "201"),
        ("nineteen oh five", "1905"),
        ("two thousand five hundred twelve", "2512"),
        ("one eight hundred five five five", "1800555"),
    ],
)
def test_number_words_add_up_inside_a_group_but_not_across_a_pause(said: str, digits: str) -> None:
    assert spoken_digits(said) == digits


@pytest.mark.parametrize(
    ("said", "region", "expected"),
    [
        ("four one five, five five five, oh one double oh", "US", "+14155550100"),
        ("four fifteen, five fifty five, oh one hundred", "US", "+14155550100"),
        ("oh two oh, seven nine four six, oh nine five eight", "GB", "+442079460958"),
        ("oh twenty, seventy nine forty six, oh nine fifty eight", "GB", "+442079460958"),
        ("oh six, twelve, thirty-four, fifty-six, seventy-eight", "FR", "+33612345678"),
        ("zero six twelve thirty four fifty six seventy eight", "FR", "+33612345678"),
        ("oh thirty, one two three, four five six", "DE", "+4930123456"),
        ("oh four one two, three four five, six seven eight", "AU", "+61412345678"),
        ("plus four four, twenty, seven nine four six, oh nine five eight", "US", "+442079460958"),
    ],
)
def test_a_number_read_in_the_groups_of_its_country_becomes_e164(
    said: str, region: str, expected: str
) -> None:
    assert parse_phone(said, region) == expected


def test_oh_as_an_interjection_before_the_number_is_not_a_leading_zero() -> None:
    said = "Oh, my number is four one five five five five zero one zero zero"
    assert parse_phone(said, "US") == "+14155550100"


def test_a_filler_inside_a_number_does_not_cut_it() -> None:
    assert parse_phone("four one five, um, five five five, oh one oh oh", "US") == "+14155550100"


def test_a_number_is_found_with_where_it_was_said() -> None:
    said = "yesterday, and call me on four one five five five five zero one zero zero please"

    (found,) = find_phones(said, "US")

    assert found.value == "+14155550100"
    assert said[found.span[0] : found.span[1]] == "four one five five five five zero one zero zero"


def test_the_digits_of_a_date_next_to_a_number_are_not_part_of_it() -> None:
    said = "on March 3rd at 2 pm, my number is 415 555 0100"
    assert [f.value for f in find_phones(said, "US")] == ["+14155550100"]


def test_every_email_in_an_answer_is_found_with_where_it_was_said() -> None:
    said = "it was yesterday at 3 pm, and my email is john dot smith at example dot com"

    (found,) = find_emails(said)

    assert found.value == "john.smith@example.com"
    assert said[found.span[0] : found.span[1]] == "john dot smith at example dot com"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("you can reach me at john at example dot com", ["john@example.com"]),
        ("john at x dot com and mary at y dot com", ["john@x.com", "mary@y.com"]),
        ("triple oh seven at mi six dot co dot uk", ["0007@mi6.co.uk"]),
        ("at 3 pm yesterday", []),
        ("It's j-o-h-n at gmail.com.", ["john@gmail.com"]),
        ("john smith at gmail dot com, all one word", ["johnsmith@gmail.com"]),
        ("mary at example dot com. And my number", ["mary@example.com"]),
    ],
)
def test_emails_are_read_between_the_words_around_them(said: str, expected: list[str]) -> None:
    assert [f.value for f in find_emails(said)] == expected


@pytest.mark.parametrize(
    ("said", "stretches"),
    [
        ("on the fourth, no, sorry, the fifth", ["on the fourth, ", " the fifth"]),
        ("four one five… no wait, four one six", ["four one five… ", " four one six"]),
        ("it was Monday. Actually, Tuesday.", ["it was Monday. ", " Tuesday."]),
        ("no sorry the fifth", [" the fifth"]),
        ("the third, I mean the fourth", ["the third, ", " the fourth"]),
    ],
)
def test_an_answer_is_cut_into_attempts_at_each_correction(said: str, stretches: list[str]) -> None:
    assert [said[start:end] for start, end in attempts(said)] == stretches
    assert is_correction(said)


@pytest.mark.parametrize(
    "said",
    [
        "there is no damage",
        "no one was hurt",
        "I'm sorry, the pipe burst",
        "yesterday at 3 pm, and my email is john at example dot com",
    ],
)
def test_ordinary_answers_are_no_correction(said: str) -> None:
    assert not is_correction(said)
    assert attempts(said) == [(0, len(said))]


def test_free_text_is_only_cut_at_a_strong_correction() -> None:
    polite = "the pipe burst, sorry, I'm upset"
    corrected = "a pipe burst, no sorry, the tap broke"

    assert last_attempt(polite) == (0, len(polite))
    assert corrected[slice(*last_attempt(corrected))] == " the tap broke"


def test_masking_keeps_offsets() -> None:
    assert mask("call 415 now", [(5, 8)]) == "call     now"


@pytest.mark.parametrize(
    ("said", "clock"),
    [
        ("yesterday at ten oh five", "10:05"),
        ("yesterday, seven oh five pm", "19:05"),
        ("on Monday around nine oh five in the morning", "09:05"),
    ],
)
def test_oh_in_a_clock_time_is_a_zero_minute_digit(said: str, clock: str) -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/New_York"))

    moment = parse_datetime(said, now)

    assert moment is not None and moment.strftime("%H:%M") == clock


@pytest.mark.parametrize(
    "said",
    [
        "It happened on March 3 2020 26 at 2 30 p.m.",  # Whisper's "March 3rd 2026 at 2:30 pm"
        "It happened on March 3, 20 26 at 2 30 PM",
        "the 3rd of March at 11 45 am, 2026",
    ],
)
def test_the_digits_of_a_date_and_a_clock_time_are_no_phone_number(said: str) -> None:
    assert find_phones(said, "US") == []


def test_a_number_followed_by_am_is_still_a_number() -> None:
    assert parse_phone("415 392 0186 am I right?", "US") == "+14153920186"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        # tiny.en over the 8 kHz Twilio line: "john dot smith at example dot com".
        ("It's John. Smith at example. com", "john.smith@example.com"),
        ("It's John. Smith at example. com.", "john.smith@example.com"),
        ("It's John. Smith at example.com.", "john.smith@example.com"),
        ("It's John. Smith at example .com", "john.smith@example.com"),  # 16 kHz (ACS)
        ("mary at example. co. uk.", "mary@example.co.uk"),
    ],
)
def test_a_dot_written_as_a_full_stop_inside_an_address_is_a_dot(said: str, expected: str) -> None:
    assert parse_email(said) == expected


@pytest.mark.parametrize("said", ["I was at work. It flooded.", "It's at home. Go."])
def test_full_stops_between_sentences_make_no_address(said: str) -> None:
    assert parse_email(said) is None


def test_an_address_whose_at_the_recogniser_dropped_has_it_at_the_one_undotted_gap() -> None:
    assert parse_email("it's john dot smith example dot com") == "john.smith@example.com"


@pytest.mark.parametrize(
    "said",
    [
        "I went to the shop dot com",  # one spoken dot
        "john dot smith from example dot com",  # two gaps: no telling where the @ was
        "the pipe dot burst dot everywhere",  # no domain at the end
    ],
)
def test_without_an_at_only_an_unambiguous_address_is_read(said: str) -> None:
    assert parse_email(said) is None
