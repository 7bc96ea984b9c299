"""Which claim fields one answer fills, tried on sentences callers say."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard.domain import ClaimField, ClaimFieldType
from switchboard_brain.policy.form_candidates import Candidate, Reading, find_candidates
from switchboard_testing.brain_fakes import CLAIM

# Tuesday 24 November 2026, 10:00 in New York.
NEW_YORK = Reading(datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/New_York")), "US")
WHEN, EMAIL, PHONE, WHAT = CLAIM


def values(
    said: str,
    asked: ClaimField | None,
    open_fields: tuple[ClaimField, ...] = CLAIM,
    filled: dict[str, str] | None = None,
    reading: Reading = NEW_YORK,
) -> dict[str, str]:
    found = find_candidates(
        said, asked=asked, open_fields=open_fields, filled=filled or {}, reading=reading
    )
    return {c.field: c.value for c in found}


def test_several_fields_in_one_answer_are_all_found() -> None:
    said = "it was yesterday at 3 pm, and my email is john dot smith at example dot com"

    assert values(said, asked=WHEN) == {
        "incident_datetime": "2026-11-23T15:00:00-05:00",
        "email": "john.smith@example.com",
    }


def test_an_email_and_a_phone_number_in_one_answer_go_to_their_own_fields() -> None:
    said = "sure, it's mary at example dot com, and my mobile is four one five 555 oh one oh oh"

    assert values(said, asked=EMAIL) == {
        "email": "mary@example.com",
        "callback_phone": "+14155550100",
    }


def test_a_candidate_says_where_in_the_answer_its_value_was() -> None:
    said = "yesterday, and you can write to jane at example dot org"

    found = find_candidates(said, asked=WHEN, open_fields=CLAIM, filled={}, reading=NEW_YORK)

    email = next(c for c in found if c.field == "email")
    assert email == Candidate("email", "jane@example.org", (32, 55))
    assert said[32:55] == "jane at example dot org"


def test_a_self_corrected_day_stores_the_last_one_said() -> None:
    assert values("on the fourth, no, sorry, the fifth", asked=WHEN) == {
        "incident_datetime": "2026-11-05T00:00:00-05:00"
    }


def test_a_correction_of_the_day_keeps_the_time_said_before_it() -> None:
    assert values("on the fourth at 3 pm, no, the fifth", asked=WHEN) == {
        "incident_datetime": "2026-11-05T15:00:00-05:00"
    }


def test_a_correction_of_the_time_keeps_the_day_said_before_it() -> None:
    assert values("yesterday at 3, I mean at 4", asked=WHEN) == {
        "incident_datetime": "2026-11-23T16:00:00-05:00"
    }


def test_a_self_corrected_phone_number_stores_the_last_one_said() -> None:
    said = "my number is four one five… no wait, four one six, five five five, zero one zero zero"

    assert values(said, asked=PHONE) == {"callback_phone": "+14165550100"}


def test_a_correction_of_the_last_digits_of_a_phone_number_replaces_only_those() -> None:
    said = "four one five three nine two oh one eight six, sorry, oh one eight seven"

    assert values(said, asked=PHONE) == {"callback_phone": "+14153920187"}


def test_a_self_corrected_email_stores_the_last_one_said() -> None:
    said = "j o h n at gmail dot com, no sorry, j o n at gmail dot com"

    assert values(said, asked=EMAIL) == {"email": "jon@gmail.com"}


def test_a_correction_to_a_value_stored_before_changes_only_what_it_names() -> None:
    filled = {"incident_datetime": "2026-11-04T15:00:00-05:00"}

    assert values("no, sorry, the fifth", asked=EMAIL, filled=filled) == {
        "incident_datetime": "2026-11-05T15:00:00-05:00"
    }


@pytest.mark.parametrize(
    "said",
    [
        "you can reach me on this number",
        "the number you're calling is fine",
        "same number",
        "just call the one I'm on",
    ],
)
def test_this_number_is_the_line_the_call_is_on(said: str) -> None:
    reading = Reading(NEW_YORK.now, "US", "+12125550100")

    assert values(said, asked=PHONE, reading=reading) == {"callback_phone": "+12125550100"}


def test_this_phone_in_a_description_is_no_phone_number() -> None:
    reading = Reading(NEW_YORK.now, "US", "+12125550100")
    said = "that phone was stolen from my car"

    assert values(said, asked=WHAT, reading=reading) == {"description": said}


def test_a_number_said_after_this_number_wins() -> None:
    reading = Reading(NEW_YORK.now, "US", "+12125550100")
    said = "this number, no sorry, my cell, four one five five five five oh one oh oh"

    assert values(said, asked=PHONE, reading=reading) == {"callback_phone": "+14155550100"}


def test_a_phone_number_volunteered_before_it_is_asked_is_found() -> None:
    said = "last Monday, and you can call me back on 415 555 0100"

    assert values(said, asked=WHEN)["callback_phone"] == "+14155550100"


def test_a_date_volunteered_in_a_description_fills_the_only_open_datetime_field() -> None:
    said = "A truck hit my parked car yesterday around 5 pm"

    assert values(said, asked=WHAT) == {
        "incident_datetime": "2026-11-23T17:00:00-05:00",
        "description": "A truck hit my parked car yesterday around 5 pm",
    }


def test_a_time_alone_is_not_volunteered_as_a_date() -> None:
    assert values("my son came home at 3 and saw the water", asked=WHAT) == {
        "description": "my son came home at 3 and saw the water"
    }


def test_a_vague_date_said_in_passing_is_not_volunteered() -> None:
    said = "I bought the car last year and it was parked outside"

    assert values(said, asked=WHAT) == {"description": said}
    assert values("a few weeks ago, on a Tuesday", asked=WHEN) != {}
    assert "incident_datetime" in values("last week on Tuesday, a tree fell", asked=WHAT)


def test_a_date_with_two_open_datetime_fields_goes_to_neither_unless_asked() -> None:
    appointment = ClaimField(
        name="appointment", type=ClaimFieldType.DATETIME, description="next appointment"
    )
    fields = (*CLAIM, appointment)

    assert values("it was yesterday, the pipe burst", asked=WHAT, open_fields=fields) == {
        "description": "it was yesterday, the pipe burst"
    }
    assert values("Monday at 10", asked=appointment, open_fields=fields) == {
        "appointment": "2026-11-30T10:00:00-05:00"
    }


def test_an_email_with_two_open_email_fields_goes_to_neither_unless_asked() -> None:
    broker = ClaimField(name="broker_email", type=ClaimFieldType.EMAIL, description="broker")

    assert values("bob at example dot com", asked=WHEN, open_fields=(*CLAIM, broker)) == {}


def test_a_text_field_takes_the_answer_only_when_it_is_asked() -> None:
    assert values("my laptop was stolen", asked=WHEN) == {}
    assert values("my laptop was stolen", asked=WHAT) == {"description": "my laptop was stolen"}


def test_an_answer_of_only_values_for_other_fields_is_no_free_text_answer() -> None:
    assert values("oh, and my email is mary at example dot com", asked=WHAT) == {
        "email": "mary@example.com"
    }
    assert values("it was yesterday at 3 pm", asked=WHAT) == {
        "incident_datetime": "2026-11-23T15:00:00-05:00"
    }


def test_a_date_corrected_while_a_text_field_is_asked_is_no_free_text_answer() -> None:
    filled = {"incident_datetime": "2026-11-22T19:00:00-05:00"}
    said = "Sunday at around seven, no, sorry, eight pm"

    assert values(said, asked=WHAT, filled=filled) == {
        "incident_datetime": "2026-11-22T20:00:00-05:00"
    }


def test_a_clause_that_only_carried_another_fields_value_is_left_out_of_free_text() -> None:
    said = "A pipe burst under the sink. Oh, and my e-mail is jane at example dot com."

    assert values(said, asked=WHAT) == {
        "email": "jane@example.com",
        "description": "A pipe burst under the sink.",
    }
    assert values("Yesterday, a tree fell on the fence", asked=WHAT)["description"] == (
        "a tree fell on the fence"
    )


def test_a_free_text_answer_corrected_by_the_caller_keeps_the_correction() -> None:
    said = "a pipe burst, no sorry, the tap in the kitchen broke"

    assert values(said, asked=WHAT) == {"description": "the tap in the kitchen broke"}


def test_a_filled_field_takes_no_volunteered_value_unless_open() -> None:
    open_fields = (WHEN, PHONE, WHAT)  # the e-mail is already stored

    assert values("john at example dot com", asked=WHEN, open_fields=open_fields) == {}


def test_dates_are_read_in_the_callee_region() -> None:
    paris = Reading(datetime(2026, 11, 24, 16, 0, tzinfo=ZoneInfo("Europe/Paris")), "FR")

    assert values("3/4/2026", asked=WHEN, reading=paris) == {
        "incident_datetime": "2026-04-03T00:00:00+02:00"
    }
    assert values("3/4/2026", asked=WHEN) == {"incident_datetime": "2026-03-04T00:00:00-05:00"}


@pytest.mark.parametrize(
    "said",
    [
        "john dot smith at example dot com",
        "It's John Dot Smith at example.com, thank you",
        "my email is john dot smith at example dot com so you can write me",
        "you can call me at four one five five five five zero one zero zero anytime",
    ],
)
def test_an_email_or_number_said_again_once_its_field_is_filled_is_no_description(
    said: str,
) -> None:
    filled = {"email": "john.smith@example.com", "callback_phone": "+14155550100"}

    assert values(said, asked=WHAT, open_fields=(WHAT,), filled=filled) == {}


def test_the_description_keeps_its_own_clauses_but_never_the_email_said_with_it() -> None:
    said = "A tree fell on the fence, and my email is john dot smith at example dot com thanks"

    assert values(said, asked=WHAT) == {
        "description": "A tree fell on the fence",
        "email": "john.smith@example.com",
    }


def test_a_date_as_whisper_writes_it_over_the_phone_fills_the_date_not_the_phone() -> None:
    said = "It happened on March 3 2020 26 at 2 30 p.m."

    assert values(said, asked=WHEN) == {"incident_datetime": "2026-03-03T14:30:00-05:00"}
