"""Dates as callers say them, on Tuesday 24 November 2026, 10:00 in New York."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard_brain.extract.dates import add_months, ordinal, parse_datetime, speak_datetime

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)


def iso(text: str, **options: bool) -> str | None:
    found = parse_datetime(text, NOW, **options)
    return found.isoformat() if found else None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("last Monday", "2026-11-23T00:00:00-05:00"),
        ("last Tuesday", "2026-11-17T00:00:00-05:00"),
        ("yesterday", "2026-11-23T00:00:00-05:00"),
        ("today", "2026-11-24T00:00:00-05:00"),
        ("the day before yesterday", "2026-11-22T00:00:00-05:00"),
        ("two weeks ago", "2026-11-10T00:00:00-05:00"),
        ("3 days ago", "2026-11-21T00:00:00-05:00"),
        ("a week ago", "2026-11-17T00:00:00-05:00"),
        ("a couple of days ago", "2026-11-22T00:00:00-05:00"),
        ("a month ago", "2026-10-24T00:00:00-04:00"),
        ("last week", "2026-11-17T00:00:00-05:00"),
        ("the third of March", "2026-03-03T00:00:00-05:00"),
        ("March 3rd", "2026-03-03T00:00:00-05:00"),
        ("march the third", "2026-03-03T00:00:00-05:00"),
        ("on the 5th", "2026-11-05T00:00:00-05:00"),
        ("2026-03-03", "2026-03-03T00:00:00-05:00"),
        ("11/16/2026", "2026-11-16T00:00:00-05:00"),
        ("November sixteenth", "2026-11-16T00:00:00-05:00"),
        ("the twenty third of march two thousand twenty six", "2026-03-23T00:00:00-04:00"),
        ("March twenty, twenty twenty six", "2026-03-20T00:00:00-04:00"),
        ("the 1st of June nineteen ninety nine", "1999-06-01T00:00:00-04:00"),
        ("Um, it was on Sunday.", "2026-11-22T00:00:00-05:00"),
    ],
)
def test_dates_without_a_time_resolve_to_local_midnight(said: str, expected: str) -> None:
    assert iso(said) == expected


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("tomorrow at 3 pm", "2026-11-25T15:00:00-05:00"),
        ("this morning", "2026-11-24T09:00:00-05:00"),
        ("yesterday at half past four", "2026-11-23T16:30:00-05:00"),
        ("yesterday at 3:30 p.m.", "2026-11-23T15:30:00-05:00"),
        ("last night", "2026-11-23T21:00:00-05:00"),
        ("quarter to five yesterday", "2026-11-23T16:45:00-05:00"),
        ("noon yesterday", "2026-11-23T12:00:00-05:00"),
        ("on Sunday around 8 in the evening", "2026-11-22T20:00:00-05:00"),
        ("yesterday at 9 in the morning", "2026-11-23T09:00:00-05:00"),
        ("15:30 on the 2nd", "2026-11-02T15:30:00-05:00"),
        ("at 3", "2026-11-24T15:00:00-05:00"),
        ("March 3rd at 10 am", "2026-03-03T10:00:00-05:00"),
        ("yesterday at seven thirty", "2026-11-23T19:30:00-05:00"),
        ("2026-03-03 14:05", "2026-03-03T14:05:00-05:00"),
        ("three days ago at eleven o'clock", "2026-11-21T11:00:00-05:00"),
        # As Whisper writes "March third twenty twenty six at two thirty pm".
        ("March 3rd, 2020, 6 at 2.30pm", "2026-03-03T14:30:00-05:00"),
        ("on March 3rd 2026 at 2.30pm.", "2026-03-03T14:30:00-05:00"),
    ],
)
def test_dates_with_a_time_resolve_to_that_local_time(said: str, expected: str) -> None:
    assert iso(said) == expected


def test_last_monday_resolves_to_the_previous_monday_in_the_callee_timezone() -> None:
    paris_now = NOW.astimezone(ZoneInfo("Europe/Paris"))
    found = parse_datetime("last Monday", paris_now)
    assert found is not None
    assert found.isoformat() == "2026-11-23T00:00:00+01:00"


def test_a_date_without_a_year_that_lies_ahead_is_taken_from_the_previous_year() -> None:
    assert iso("December 1st") == "2025-12-01T00:00:00-05:00"


def test_a_bare_day_that_lies_ahead_is_taken_from_the_previous_month() -> None:
    assert iso("on the 30th") == "2026-10-30T00:00:00-04:00"


def test_an_appointment_prefers_the_coming_date() -> None:
    assert iso("December 1st", prefer_future=True) == "2026-12-01T00:00:00-05:00"
    assert iso("Monday", prefer_future=True) == "2026-11-30T00:00:00-05:00"
    assert iso("next Monday") == "2026-11-30T00:00:00-05:00"


def test_a_bare_weekday_means_the_most_recent_one() -> None:
    assert iso("Monday") == "2026-11-23T00:00:00-05:00"
    assert iso("on Tuesday") == "2026-11-24T00:00:00-05:00"


def test_numeric_dates_read_day_first_outside_north_america() -> None:
    assert iso("3/4/2026", day_first=True) == "2026-04-03T00:00:00-04:00"
    assert iso("3/4/2026") == "2026-03-04T00:00:00-05:00"


def test_relative_dates_in_the_future_resolve_forwards() -> None:
    assert iso("in two days") == "2026-11-26T00:00:00-05:00"
    assert iso("the day after tomorrow") == "2026-11-26T00:00:00-05:00"


@pytest.mark.parametrize(
    "said", ["I don't know", "", "February 30th", "my car", "2026-02-30", "at 25"]
)
def test_answers_without_a_valid_date_give_nothing(said: str) -> None:
    assert iso(said) is None


def test_months_are_added_clamped_to_the_end_of_the_month() -> None:
    from datetime import date

    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -2) == date(2025, 11, 15)


def test_dates_are_read_back_with_an_ordinal_and_the_time_when_there_is_one() -> None:
    assert speak_datetime(datetime(2026, 11, 16, tzinfo=NEW_YORK)) == "the 16th of November 2026"
    moment = datetime(2026, 11, 16, 15, 30, tzinfo=NEW_YORK)
    assert speak_datetime(moment) == "the 16th of November 2026 at 3:30 pm"
    assert [ordinal(d) for d in (1, 2, 3, 11, 12, 13, 21, 22, 23)] == [
        "1st", "2nd", "3rd", "11th", "12th", "13th", "21st", "22nd", "23rd",
    ]  # fmt: skip


# How faster-whisper tiny.en wrote the demo's "March 3rd 2026 at 2:30 pm" over 8 kHz µ-law.
@pytest.mark.parametrize(
    "said",
    [
        "It happened on March 3 2020 26 at 2 30 p.m.",
        "It happened on March 3rd, 2020, 26 at 2.30 p.m.",
        "It happened on March 3, 20 26 at 2 30 PM",
        "It happened on March 3rd, 2000 26 at 2:30 pm.",
        "It happened on the 3rd of March 2020 26 at 2:30 pm.",
    ],
)
def test_a_year_as_whisper_splits_it_after_a_date_is_read_whole(said: str) -> None:
    assert iso(said) == "2026-03-03T14:30:00-05:00"


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("March 3rd 2020 at 2:30 pm", "2020-03-03T14:30:00-05:00"),
        ("March 3rd 2020 2 30 pm", "2020-03-03T14:30:00-05:00"),
        ("March 3rd 2020, 26 minutes past 4", "2020-03-03T16:26:00-05:00"),
        ("March 3rd 2020 12:30", "2020-03-03T12:30:00-05:00"),
        # The tens do not agree: not "twenty twenty-six" said twice over.
        ("March 3rd 2020 36", "2020-03-03T00:00:00-05:00"),
        # No day and month before it: no year to repair.
        ("in 2020 26 people were flooded, yesterday", "2026-11-23T00:00:00-05:00"),
    ],
)
def test_a_real_2020_stays_2020(said: str, expected: str) -> None:
    assert iso(said) == expected
