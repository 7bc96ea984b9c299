"""Calls in the SQLite repository: creation, reading, listing, state, durability."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from switchboard import domain
from switchboard.errors import FailedPrecondition, InvalidArgument, NotFound
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND


async def test_a_new_call_has_a_uuid_the_created_state_and_attempt_one(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    call = await repo.create_call(make_request(), OUT)

    assert uuid.UUID(call.call_id).version == 4
    assert call.state == domain.CallState.CREATED
    assert call.attempt == 1
    assert call.created_at == clock.now()
    assert call.messages == [] and call.claim == {}
    assert await repo.get_call(call.call_id) == call


async def test_phone_numbers_are_stored_in_e164(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(phone_number=" +1 415 555 0100 "), OUT)
    assert call.initiate.phone_number == "+14155550100"


async def test_only_an_inbound_call_may_have_no_number_and_it_is_never_found_open(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    withheld = await repo.create_call(make_request(phone_number=""), domain.CallDirection.INBOUND)

    assert withheld.initiate.phone_number == ""
    assert (await repo.get_call(withheld.call_id)).initiate.phone_number == ""
    with pytest.raises(InvalidArgument, match=r"initiate\.phone_number"):
        await repo.create_call(make_request(phone_number=""), OUT)
    with pytest.raises(InvalidArgument):
        await repo.find_open_call("", 3)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"phone_number": "0612345678"}, "initiate.phone_number"),
        ({"phone_number": ""}, "initiate.phone_number"),
        ({"agent_phone_number": "+1"}, "initiate.agent_phone_number"),
        ({"prosody_rate": 3.0}, "initiate.prosody_rate"),
        ({"timezone": "Mars/Olympus"}, "initiate.timezone"),
        ({"lang": "english please"}, "initiate.lang"),
        ({"task": "x" * 9000}, "initiate.task"),
        (
            {"claim": (domain.ClaimField(name="Bad Name", type=domain.ClaimFieldType.TEXT),)},
            "Bad Name",
        ),
        (
            {
                "claim": (
                    domain.ClaimField(name="email", type=domain.ClaimFieldType.EMAIL),
                    domain.ClaimField(name="email", type=domain.ClaimFieldType.TEXT),
                )
            },
            "'email' is listed twice",
        ),
    ],
)
async def test_an_invalid_request_is_refused_naming_the_field(
    repo: CallRepository, make_request: MakeRequest, changes: dict[str, object], named: str
) -> None:
    request = make_request().model_copy(update=changes)
    with pytest.raises(InvalidArgument, match=named.replace("(", r"\(")):
        await repo.create_call(request, OUT)
    assert await repo.list_calls() == ([], 0)


async def test_getting_a_call_by_a_non_uuid_is_invalid_and_an_unknown_uuid_is_not_found(
    repo: CallRepository,
) -> None:
    with pytest.raises(InvalidArgument, match="UUID"):
        await repo.get_call("'; DROP TABLE calls; --")
    with pytest.raises(NotFound):
        await repo.get_call(str(uuid.uuid4()))


async def test_calls_are_listed_newest_first_without_messages_with_a_total(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    ids = []
    for number in ("+14155550100", "+14155550101", "+14155550100"):
        call = await repo.create_call(make_request(phone_number=number), OUT)
        await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
        ids.append(call.call_id)
        clock.advance(60)

    calls, total = await repo.list_calls()
    assert [c.call_id for c in calls] == ids[::-1]
    assert total == 3
    assert all(c.messages == [] for c in calls)

    mine, mine_total = await repo.list_calls(phone_number="+14155550100", limit=1)
    assert [c.call_id for c in mine] == [ids[2]]
    assert mine_total == 2


async def test_calls_are_paged_newest_first_by_offset(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    ids = []
    for number in ("+14155550100", "+14155550101", "+14155550100", "+14155550100"):
        ids.append((await repo.create_call(make_request(phone_number=number), OUT)).call_id)
        clock.advance(60)
    newest_first = ids[::-1]

    pages = [await repo.list_calls(limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [[c.call_id for c in page] for page, _ in pages] == [newest_first[:3], [ids[0]], []]
    assert {total for _, total in pages} == {4}

    mine, total = await repo.list_calls("+14155550100", limit=1, offset=1)
    assert [c.call_id for c in mine] == [ids[2]] and total == 3
    live, total = await repo.list_calls(
        limit=2, offset=1, states=[domain.CallState.CREATED, domain.CallState.ENDED]
    )
    assert [c.call_id for c in live] == newest_first[1:3] and total == 4
    with pytest.raises(InvalidArgument, match="offset"):
        await repo.list_calls(offset=-1)


async def test_list_limits_are_clamped_and_negative_ones_refused(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    await repo.create_call(make_request(), OUT)
    assert len((await repo.list_calls(limit=1000))[0]) == 1
    with pytest.raises(InvalidArgument, match="limit"):
        await repo.list_calls(limit=-1)
    with pytest.raises(InvalidArgument, match="phone_number"):
        await repo.list_calls(phone_number="not a number")


async def test_a_stored_call_survives_closing_and_reopening_the_database(
    store: StoreUnderTest, make_request: MakeRequest, clock: VirtualClock
) -> None:
    first = await store.open(clock)
    call = await first.create_call(make_request(), OUT)
    await first.append_messages(
        call.call_id, [domain.Message(persona=domain.Persona.ASSISTANT, content="Hello")]
    )
    await first.update_claim(call.call_id, [("email", "Jane.Doe@Example.com")])
    await first.close()

    second = await store.open(clock)
    try:
        again = await second.get_call(call.call_id)
    finally:
        await second.close()
    assert again.messages[0].content == "Hello"
    assert again.claim == {"email": "Jane.Doe@example.com"}


async def test_entering_in_progress_and_ended_records_the_line_in_the_transcript(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.DIALING)
    clock.advance(5)
    await repo.set_call_language(call.call_id, "fr-FR")
    live = await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    ended = await repo.set_call_state(call.call_id, domain.CallState.ENDED, reason="goodbye")

    assert live.lang == "fr-FR"
    assert live.last_interaction_at == clock.now()
    assert [(m.persona, m.action, m.seq) for m in ended.messages] == [
        (domain.Persona.HUMAN, domain.MessageAction.CALL, 1),
        (domain.Persona.HUMAN, domain.MessageAction.HANGUP, 2),
    ]
    assert ended.state_reason == "goodbye"
    assert ended.lang == "fr-FR"

    again = await repo.set_call_state(call.call_id, domain.CallState.ENDED)
    assert len(again.messages) == 2  # the same state twice records nothing twice
    assert again.state_reason == "goodbye"


async def test_resuming_an_ended_call_counts_an_attempt(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED)
    resumed = await repo.set_call_state(call.call_id, domain.CallState.DIALING)
    ringing = await repo.set_call_state(call.call_id, domain.CallState.RINGING)

    assert resumed.attempt == 2
    assert ringing.attempt == 2


@pytest.mark.parametrize("terminal", [domain.CallState.ENDED, domain.CallState.FAILED])
@pytest.mark.parametrize(
    "target",
    [domain.CallState.CREATED, domain.CallState.TRANSFERRING],
)
async def test_a_finished_call_is_only_left_by_resuming_it(
    repo: CallRepository,
    make_request: MakeRequest,
    terminal: domain.CallState,
    target: domain.CallState,
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, terminal, reason="busy")
    with pytest.raises(FailedPrecondition, match="resumed"):
        await repo.set_call_state(call.call_id, target)
    stored = await repo.get_call(call.call_id)
    assert stored.state == terminal
    assert stored.attempt == 1


async def test_an_oversized_state_reason_is_refused(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    with pytest.raises(InvalidArgument, match="reason"):
        await repo.set_call_state(call.call_id, domain.CallState.FAILED, reason="x" * 5000)
    assert (await repo.get_call(call.call_id)).state == domain.CallState.CREATED


@pytest.mark.parametrize("language_first", [True, False])
async def test_a_language_switch_racing_the_hang_up_leaves_the_call_ended_at_its_attempt(
    repo: CallRepository, make_request: MakeRequest, language_first: bool
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    hang_up = repo.set_call_state(call.call_id, domain.CallState.ENDED, reason="hangup")
    switch = repo.set_call_language(call.call_id, "fr-FR")

    await asyncio.gather(*((switch, hang_up) if language_first else (hang_up, switch)))

    stored = await repo.get_call(call.call_id)
    assert stored.state == domain.CallState.ENDED
    assert stored.state_reason == "hangup"
    assert stored.attempt == 1
    assert stored.lang == "fr-FR"


async def test_setting_the_language_adds_no_state_event(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    before = await repo.events_after(call.call_id, 0)
    await repo.set_call_language(call.call_id, "de-DE")
    assert await repo.events_after(call.call_id, 0) == before


async def test_a_language_must_be_a_language_tag(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    for bad in ("", "not a language"):
        with pytest.raises(InvalidArgument):
            await repo.set_call_language(call.call_id, bad)
