"""FindOpenCall: the newest resumable call of a number, inside the callback window."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from switchboard import domain
from switchboard.errors import InvalidArgument
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
NUMBER = "+14155550100"


async def test_the_newest_call_inside_the_window_is_found(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    await repo.create_call(make_request(), OUT)
    clock.advance(60)
    newest = await repo.create_call(make_request(), OUT)
    await repo.append_messages(
        newest.call_id, [domain.Message(persona=domain.Persona.HUMAN, content="hi")]
    )
    clock.advance(2 * 3600)

    found = await repo.find_open_call(NUMBER, 3)
    assert found is not None
    assert found.call_id == newest.call_id
    assert [m.content for m in found.messages] == ["hi"]


async def test_a_call_older_than_the_window_is_not_found(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    await repo.create_call(make_request(), OUT)
    clock.advance(3 * 3600 + 1)
    assert await repo.find_open_call(NUMBER, 3) is None


async def test_a_zero_window_disables_the_lookup(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    await repo.create_call(make_request(), OUT)
    assert await repo.find_open_call(NUMBER, 0) is None


async def test_failed_calls_and_other_numbers_are_not_found(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    failed = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(failed.call_id, domain.CallState.FAILED, reason="busy")
    await repo.create_call(make_request(phone_number="+14155550101"), OUT)
    assert await repo.find_open_call(NUMBER, 3) is None


async def test_an_ended_call_is_still_found_so_it_can_be_resumed(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED)
    found = await repo.find_open_call(NUMBER, 3)
    assert found is not None and found.call_id == call.call_id
    assert found.attempt == 1  # finding is read-only; resuming counts the attempt


async def test_a_request_must_be_equal_to_match(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    same = await repo.create_call(make_request(), OUT)
    clock.advance(60)
    await repo.create_call(make_request(task="Sell a new contract."), OUT)

    found = await repo.find_open_call(NUMBER, 3, make_request(phone_number="+1 415-555-0100"))
    assert found is not None and found.call_id == same.call_id
    assert await repo.find_open_call(NUMBER, 3, make_request(task="Something else.")) is None


async def test_a_bad_number_or_window_is_refused(repo: CallRepository) -> None:
    with pytest.raises(InvalidArgument, match="phone_number"):
        await repo.find_open_call("", 3)
    with pytest.raises(InvalidArgument, match="within_hours"):
        await repo.find_open_call(NUMBER, -1)
    with pytest.raises(InvalidArgument, match="within_hours"):
        await repo.find_open_call(NUMBER, float("nan"))
    assert await repo.find_open_call(NUMBER, float("inf")) is None
