"""UpdateClaim: values normalised by field type; all or nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard import domain
from switchboard.errors import InvalidArgument
from switchboard_store.repository import CallRepository, ClaimChange

MakeRequest = Callable[..., domain.CallRequest]


@pytest.fixture
async def call_id(repo: CallRepository, make_request: MakeRequest) -> str:
    return (await repo.create_call(make_request(), domain.CallDirection.OUTBOUND)).call_id


async def test_values_are_stored_in_their_canonical_form(
    repo: CallRepository, call_id: str
) -> None:
    result = await repo.update_claim(
        call_id,
        [
            ("incident_date", "2026-03-02T14:30:00+01:00"),
            ("email", "  Jane.Doe@Example.COM "),
            ("description", "  rear   bumper \n dented "),
        ],
    )
    expected = {
        "incident_date": "2026-03-02T14:30:00+01:00",
        "email": "Jane.Doe@example.com",
        "description": "rear bumper dented",
    }
    assert result.claim == expected
    assert result.applied == [ClaimChange(k, v) for k, v in expected.items()]
    assert (await repo.get_call(call_id)).claim == expected


async def test_one_bad_value_stores_nothing(repo: CallRepository, call_id: str) -> None:
    await repo.update_claim(call_id, [("description", "before")])
    events_before = await repo.events_after(call_id, 0)

    with pytest.raises(InvalidArgument, match=r"claim field 'email' \(email\): must be"):
        await repo.update_claim(call_id, [("description", "after"), ("email", "not an e-mail")])

    assert (await repo.get_call(call_id)).claim == {"description": "before"}
    assert await repo.events_after(call_id, 0) == events_before


async def test_an_unknown_field_is_refused_listing_the_known_ones(
    repo: CallRepository, call_id: str
) -> None:
    with pytest.raises(InvalidArgument, match=r"'colour'.*incident_date, email, description"):
        await repo.update_claim(call_id, [("colour", "red")])


@pytest.mark.parametrize(
    ("field", "value"),
    [("incident_date", "yesterday"), ("incident_date", "2026-03-02T14:30:00"), ("email", "")],
)
async def test_values_that_do_not_fit_their_type_are_refused(
    repo: CallRepository, call_id: str, field: str, value: str
) -> None:
    with pytest.raises(InvalidArgument, match=field):
        await repo.update_claim(call_id, [(field, value)])
    assert (await repo.get_call(call_id)).claim == {}


async def test_an_unchanged_value_records_no_event(repo: CallRepository, call_id: str) -> None:
    await repo.update_claim(call_id, [("description", "dent")])
    before = await repo.events_after(call_id, 0)
    result = await repo.update_claim(call_id, [("description", "dent")])
    assert result.applied == [ClaimChange("description", "dent")]
    assert await repo.events_after(call_id, 0) == before


def caller_says(text: str, turn_id: str) -> domain.Message:
    return domain.Message(persona=domain.Persona.HUMAN, content=text, turn_id=turn_id)


async def test_the_callers_words_are_stored_with_the_claim_they_gave_words_first(
    repo: CallRepository, call_id: str
) -> None:
    before = await repo.events_after(call_id, 0)

    result = await repo.update_claim(
        call_id, [("email", "jane@example.com")], [caller_says("jane at example dot com", "t1")]
    )

    assert result.claim == {"email": "jane@example.com"}
    call = await repo.get_call(call_id)
    assert [(m.turn_id, m.content) for m in call.messages] == [("t1", "jane at example dot com")]
    added = (await repo.events_after(call_id, 0))[len(before) :]
    assert [type(e.payload).__name__ for e in added] == ["Message", "ClaimChange"]


async def test_a_refused_value_stores_neither_the_claim_nor_the_words(
    repo: CallRepository, call_id: str
) -> None:
    with pytest.raises(InvalidArgument, match="email"):
        await repo.update_claim(call_id, [("email", "nope")], [caller_says("nope", "t1")])

    call = await repo.get_call(call_id)
    assert (call.claim, call.messages) == ({}, [])


async def test_words_resent_with_a_claim_update_are_kept_once(
    repo: CallRepository, call_id: str
) -> None:
    words = caller_says("it was a dent", "t1")
    await repo.update_claim(call_id, [("description", "dent")], [words])
    await repo.update_claim(call_id, [("description", "dent")], [words])

    assert [m.turn_id for m in (await repo.get_call(call_id)).messages] == ["t1"]
