"""The form policy on what callers really say: several fields at once, corrections,
values given before they are asked, digits as "oh"/"double"/"triple" and read in their
country's groups, and questions phrased for the caller."""

from __future__ import annotations

import json

from switchboard.domain import ClaimField, ClaimFieldType
from switchboard_testing.brain_fakes import CLAIM, InMemoryStore
from switchboard_testing.form_helpers import greet, open_session, said, turn

WHEN, EMAIL, PHONE, WHAT = CLAIM


async def test_several_fields_in_one_answer_are_all_stored_and_none_is_asked_again() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = await turn(
        session, "t1", "It was yesterday at 3 pm, and my email is john dot smith at example dot com"
    )

    assert said(events) == (
        "Got it, the 23rd of November 2026 at 3 pm, and john.smith@example.com. "
        "Could you tell me a phone number where we can reach you? "
        "You can also type it on your keypad, then press hash."
    )
    assert store.calls["call-1"].claim == {
        "incident_datetime": "2026-11-23T15:00:00-05:00",
        "email": "john.smith@example.com",
    }
    rest = [
        await turn(session, "t2", "four one five, triple five, oh one double oh"),
        await turn(session, "t3", "A truck hit my parked car."),
    ]
    assert all("tell me your e-mail" not in said(events) for events in rest)
    assert store.calls["call-1"].claim["callback_phone"] == "+14155550100"
    assert said(rest[-1]).endswith("Is there anything else I can do for you?")


async def test_a_day_corrected_in_the_same_answer_stores_the_last_one() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "on the fourth, no, sorry, the fifth")

    assert said(events).startswith("Got it, the 5th of November 2026.")
    assert store.calls["call-1"].claim["incident_datetime"] == "2026-11-05T00:00:00-05:00"


async def test_a_value_corrected_on_the_next_turn_replaces_the_one_just_confirmed() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)
    await turn(session, "t1", "yesterday at 3 pm")

    events = await turn(session, "t2", "no, sorry, last Sunday")

    assert said(events) == (
        "Got it, the 22nd of November 2026 at 3 pm. Could you tell me your e-mail address?"
    )
    assert store.calls["call-1"].claim == {"incident_datetime": "2026-11-22T15:00:00-05:00"}


async def test_a_phone_number_corrected_mid_way_stores_the_corrected_number() -> None:
    store = InMemoryStore()
    store.new_call(claim=(PHONE, WHAT))
    session = await open_session(store)
    await greet(session)

    await turn(session, "t1", "it's four one five… no wait, four one six, 555, oh one oh oh")

    assert store.calls["call-1"].claim == {"callback_phone": "+14165550100"}


async def test_a_value_volunteered_before_its_question_is_stored_and_never_asked() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)

    volunteered = await turn(session, "t1", "sure, but first, my email is mary at example dot com")
    assert said(volunteered) == "Got it, mary@example.com. When did the incident happen?"
    assert "retries" not in json.loads(store.calls["call-1"].policy_state)

    answered = await turn(session, "t2", "last Monday")

    assert said(answered).endswith(
        "Could you tell me a phone number where we can reach you? "
        "You can also type it on your keypad, then press hash."
    )
    assert store.calls["call-1"].claim == {
        "email": "mary@example.com",
        "incident_datetime": "2026-11-23T00:00:00-05:00",
    }


async def test_i_dont_know_skips_the_asked_field_but_keeps_what_else_was_said() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "I don't know the date, my email is bob at example dot com")

    assert said(events) == (
        "No problem, let's skip that. Got it, bob@example.com. "
        "Could you tell me a phone number where we can reach you? "
        "You can also type it on your keypad, then press hash."
    )
    assert store.calls["call-1"].claim == {"email": "bob@example.com"}


async def test_a_date_told_in_the_description_fills_the_date_field_too() -> None:
    store = InMemoryStore()
    store.new_call(claim=(WHAT, WHEN, EMAIL))
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "A truck hit my parked car yesterday around 5 pm.")

    assert said(events) == (
        "Thank you, I've noted what happened, and the 23rd of November 2026 at 5 pm. "
        "Could you tell me your e-mail address?"
    )
    assert store.calls["call-1"].claim == {
        "description": "A truck hit my parked car yesterday around 5 pm.",
        "incident_datetime": "2026-11-23T17:00:00-05:00",
    }


async def test_a_number_read_in_british_groups_is_stored_for_a_british_callee() -> None:
    store = InMemoryStore()
    store.new_call(phone_number="+442079460000", timezone="Europe/London", claim=(PHONE,))
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "oh twenty, seven nine four six, oh nine five eight")

    assert said(events).startswith("Got it, plus 4 4, 2 0, 7 9 4 6, 0 9 5 8.")
    assert store.calls["call-1"].claim == {"callback_phone": "+442079460958"}


async def test_questions_and_confirmations_are_phrased_for_the_caller() -> None:
    store = InMemoryStore()
    store.new_call(
        claim=(
            ClaimField(
                name="policyholder_email",
                type=ClaimFieldType.EMAIL,
                description="the customer's e-mail address",
            ),
            ClaimField(
                name="damage",
                type=ClaimFieldType.TEXT,
                description="The customer's description of the damage",
            ),
        )
    )
    session = await open_session(store)

    greeting = said(await greet(session))
    assert greeting.endswith("Could you tell me your e-mail address?")
    events = await turn(session, "t1", "bob at example dot com")
    assert said(events).endswith("Could you tell me your description of the damage?")
    events = await turn(session, "t2", "my laptop got wet, the screen is broken")

    assert said(events).startswith("Thank you, I've noted your description of the damage.")
    assert "my laptop" not in said(events)
    assert "the customer" not in greeting + said(events)


async def test_a_talkative_caller_fills_the_demo_claim_in_three_answers() -> None:
    store = InMemoryStore()
    store.new_call(
        phone_number="+14155550123",
        timezone="",
        task="Help the customer file a claim for the water damage in their kitchen.",
        claim=(
            ClaimField(
                name="incident_datetime",
                type=ClaimFieldType.DATETIME,
                description="when the damage happened",
            ),
            ClaimField(
                name="incident_description", type=ClaimFieldType.TEXT, description="what happened"
            ),
            ClaimField(
                name="policyholder_email",
                type=ClaimFieldType.EMAIL,
                description="the e-mail address where we can send the claim documents",
            ),
            ClaimField(
                name="callback_number",
                type=ClaimFieldType.PHONE_NUMBER,
                description="a phone number where an adjuster can reach you",
            ),
        ),
    )
    session = await open_session(store)
    greeting = said(await greet(session))
    assert "help you file a claim for the water damage in your kitchen" in greeting
    lines = [
        "Sunday evening, around seven, and you can reach me on four one five, "
        "three nine two, oh one eight six.",
        "A pipe burst under the sink. Oh, and my e-mail is jane dot doe at gmail dot com.",
        "No, that's all, thanks. Bye!",
    ]
    replies = [said(await turn(session, f"t{i}", line)) for i, line in enumerate(lines)]

    assert replies[0].endswith("Could you tell me what happened?")
    assert "To sum up" in replies[1] and "I also noted what happened." in replies[1]
    assert "A pipe burst" not in " ".join(replies)
    assert store.calls["call-1"].claim == {
        "incident_datetime": "2026-11-22T19:00:00-08:00",
        "callback_number": "+14153920186",
        "incident_description": "A pipe burst under the sink.",
        "policyholder_email": "jane.doe@gmail.com",
    }


async def test_this_number_stores_the_line_the_call_is_on() -> None:
    store = InMemoryStore()
    store.new_call(claim=(PHONE, WHAT))
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "Just use the number you called, please.")

    assert said(events).startswith("Got it, plus 1, 2 1 2, 5 5 5, 0 1 0 0.")
    assert store.calls["call-1"].claim == {"callback_phone": "+12125550100"}


async def test_a_value_said_with_goodbye_is_kept_and_recapped() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = await turn(session, "t1", "It was yesterday at noon, that's all, bye.")

    assert "To sum up, I noted" in said(events) and "the 23rd of November 2026" in said(events)
    assert store.calls["call-1"].claim == {"incident_datetime": "2026-11-23T12:00:00-05:00"}
    assert said(events).endswith("goodbye!")


async def test_a_goodbye_while_free_text_is_asked_is_not_stored_as_the_text() -> None:
    store = InMemoryStore()
    store.new_call(claim=(WHAT,))
    session = await open_session(store)
    await greet(session)

    await turn(session, "t1", "Sorry, I have to go, bye.")

    assert store.calls["call-1"].claim == {}
