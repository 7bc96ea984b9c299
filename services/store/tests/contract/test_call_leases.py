"""Dialer leases on live calls: taken with the state that makes a call live, renewed while
it lives, and the calls of a gone replica ended as line_dropped with their post-call job."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED, CallLease
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.jobs import POST_CALL, JobState
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database
MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
LEASE_SEC = 10.0
A = CallLease("dialer-a", LEASE_SEC)
B = CallLease("dialer-b", LEASE_SEC)
DIALING = domain.CallState.DIALING
IN_PROGRESS = domain.CallState.IN_PROGRESS
ENDED = domain.CallState.ENDED


async def live_call(
    repo: CallRepository, make_request: MakeRequest, lease: CallLease = A, **request: Any
) -> domain.Call:
    """A call dialled and connected by ``lease``'s replica, as the dialer does it."""
    call = await repo.create_call(make_request(**request), OUT)
    await repo.set_call_state(call.call_id, DIALING, lease=lease)
    return await repo.set_call_state(call.call_id, IN_PROGRESS, lease=lease)


async def post_call_jobs(repo: CallRepository, call_id: str) -> list[str]:
    return [j.job_id for j in await repo.jobs.list_jobs() if j.call_id == call_id]


async def test_a_call_live_on_one_replica_cannot_be_leased_by_another_until_it_expires(
    repo: CallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    call = await live_call(repo, make_request)

    with pytest.raises(FailedPrecondition, match="live on another dialer replica"):
        await repo.set_call_state(call.call_id, IN_PROGRESS, lease=B)
    await repo.set_call_state(call.call_id, IN_PROGRESS, lease=A)  # its own: fine
    clock.advance(LEASE_SEC + 1)
    taken = await repo.set_call_state(call.call_id, IN_PROGRESS, lease=B)

    assert taken.state is IN_PROGRESS
    assert await repo.renew_call_leases(A.owner, [call.call_id], LEASE_SEC) == []


async def test_renewing_keeps_a_live_call_from_being_ended(
    repo: CallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    call = await live_call(repo, make_request)
    for _ in range(3):
        clock.advance(LEASE_SEC * 0.8)
        assert await repo.renew_call_leases(A.owner, [call.call_id], LEASE_SEC) == [call.call_id]
        assert await repo.end_orphaned_calls() == []

    assert (await repo.get_call(call.call_id)).state is IN_PROGRESS


async def test_an_expired_lease_ends_the_call_as_line_dropped_with_one_post_call_job(
    store: StoreUnderTest, clock: VirtualClock, make_request: MakeRequest
) -> None:
    repo = await store.open(clock)
    call = await live_call(repo, make_request)
    await repo.append_messages(
        call.call_id, [domain.Message(persona=domain.Persona.HUMAN, content="a tree fell")]
    )
    clock.advance(LEASE_SEC - 1)
    assert await repo.end_orphaned_calls() == []

    clock.advance(2)
    assert await repo.end_orphaned_calls() == [call.call_id]
    assert await repo.end_orphaned_calls() == []  # once

    ended = await repo.get_call(call.call_id)
    assert (ended.state, ended.state_reason) == (ENDED, LINE_DROPPED)
    assert [m.content for m in ended.messages if m.content] == ["a tree fell"]
    assert await post_call_jobs(repo, call.call_id) == [f"{POST_CALL}:{call.call_id}:1"]
    # The lost lease is not renewed: the call is over for the replica that ran it.
    assert await repo.renew_call_leases(A.owner, [call.call_id], LEASE_SEC) == []


async def test_a_restarted_replica_ends_every_call_it_held_at_once_and_only_those(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    connected = await live_call(repo, make_request)
    ringing = await repo.create_call(make_request(phone_number="+14155550101"), OUT)
    await repo.set_call_state(ringing.call_id, DIALING, lease=A)
    others = await live_call(repo, make_request, B, phone_number="+14155550102")
    unleased = await repo.create_call(make_request(phone_number="+14155550103"), OUT)
    await repo.set_call_state(unleased.call_id, IN_PROGRESS)

    ended = await repo.end_orphaned_calls(owner=A.owner)

    assert sorted(ended) == sorted([connected.call_id, ringing.call_id])
    states = {c: (await repo.get_call(c)).state for c in (*ended, others.call_id)}
    assert states == {connected.call_id: ENDED, ringing.call_id: ENDED, others.call_id: IN_PROGRESS}
    assert (await repo.get_call(unleased.call_id)).state is IN_PROGRESS
    # Only the connected call has post-call work; the one still dialling never spoke.
    assert await post_call_jobs(repo, connected.call_id) == [f"{POST_CALL}:{connected.call_id}:1"]
    assert await post_call_jobs(repo, ringing.call_id) == []


async def test_an_ended_call_holds_no_lease_so_a_callback_resumes_it_on_any_replica(
    repo: CallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    call = await live_call(repo, make_request)
    clock.advance(LEASE_SEC + 1)
    await repo.end_orphaned_calls()

    found = await repo.find_open_call(call.initiate.phone_number, 3, call.initiate)
    assert found is not None and found.call_id == call.call_id
    resumed = await repo.set_call_state(call.call_id, IN_PROGRESS, lease=B)
    assert (resumed.state, resumed.attempt) == (IN_PROGRESS, 2)
    assert await repo.renew_call_leases(B.owner, [call.call_id], LEASE_SEC) == [call.call_id]
    await repo.set_call_state(call.call_id, ENDED, "caller_goodbye")
    # A normal ending releases the lease: nothing is left for a sweep, whatever the time.
    clock.advance(LEASE_SEC * 10)
    assert await repo.end_orphaned_calls() == []
    assert await repo.end_orphaned_calls(owner=B.owner) == []
    assert await post_call_jobs(repo, call.call_id) == [
        f"{POST_CALL}:{call.call_id}:1",
        f"{POST_CALL}:{call.call_id}:2",
    ]


async def test_renewal_skips_finished_and_unknown_calls(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    live = await live_call(repo, make_request)
    done = await live_call(repo, make_request, phone_number="+14155550101")
    await repo.set_call_state(done.call_id, ENDED, "caller_hangup")
    unknown = "6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90"

    renewed = await repo.renew_call_leases(
        A.owner, [live.call_id, done.call_id, unknown, live.call_id.upper()], LEASE_SEC
    )

    assert renewed == [live.call_id]


async def test_replicas_sweeping_together_end_each_orphan_once(
    store: StoreUnderTest, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first, second = await store.open(clock), await store.open(clock)
    calls = [await live_call(first, make_request, phone_number=f"+1415555020{i}") for i in range(6)]
    clock.advance(LEASE_SEC + 1)

    results = await asyncio.gather(*(r.end_orphaned_calls() for r in (first, second) * 3))

    ended = sorted(c for result in results for c in result)
    assert ended == sorted(c.call_id for c in calls)
    jobs = await first.jobs.list_jobs()
    assert sorted(j.call_id for j in jobs) == ended
    assert {j.state for j in jobs} == {JobState.PENDING}


async def test_a_sweep_ends_at_most_limit_calls(
    repo: CallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    for i in range(3):
        await live_call(repo, make_request, phone_number=f"+1415555030{i}")
    clock.advance(LEASE_SEC + 1)

    assert len(await repo.end_orphaned_calls(limit=2)) == 2
    assert len(await repo.end_orphaned_calls(limit=2)) == 1


@pytest.mark.parametrize(
    ("owner", "call_ids", "lease_sec", "message"),
    [
        ("", [], LEASE_SEC, "owner is required"),
        ("x" * 201, [], LEASE_SEC, "owner is longer than 200"),
        ("d", [], 0.0, "lease_sec must be above 0"),
        ("d", [], math.nan, "lease_sec must be above 0"),
        ("d", [], 3601.0, "at most 3600"),
        ("d", ["not-a-call"], LEASE_SEC, "call_id must be a UUID"),
        ("d", ["6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90"] * 1001, LEASE_SEC, "at most 1000"),
    ],
)
async def test_a_bad_renewal_is_refused_with_a_message_naming_the_field(
    repo: CallRepository, owner: str, call_ids: list[str], lease_sec: float, message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        await repo.renew_call_leases(owner, call_ids, lease_sec)


async def test_a_bad_lease_or_sweep_is_refused(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    with pytest.raises(InvalidArgument, match=r"lease\.owner is required"):
        await repo.set_call_state(call.call_id, DIALING, lease=CallLease("", LEASE_SEC))
    with pytest.raises(InvalidArgument, match=r"lease\.lease_sec"):
        await repo.set_call_state(call.call_id, DIALING, lease=CallLease("d", -1))
    with pytest.raises(InvalidArgument, match="limit must be between 1 and 1000"):
        await repo.end_orphaned_calls(limit=-1)
    assert (await repo.get_call(call.call_id)).state is domain.CallState.CREATED


async def test_a_live_call_names_the_address_of_the_replica_holding_its_lease(
    repo: CallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    at_a = CallLease("dialer-a", LEASE_SEC, "10.0.0.7:50051")
    call = await live_call(repo, make_request, lease=at_a)
    assert call.dialer_address == "10.0.0.7:50051"
    # A renewal keeps it; a replica that takes an expired lease over says its own.
    assert await repo.renew_call_leases(at_a.owner, [call.call_id], LEASE_SEC) == [call.call_id]
    assert (await repo.get_call(call.call_id)).dialer_address == "10.0.0.7:50051"
    clock.advance(LEASE_SEC + 1)
    taken = await repo.set_call_state(
        call.call_id, IN_PROGRESS, lease=CallLease("dialer-b", LEASE_SEC, "10.0.0.8:50051")
    )
    assert taken.dialer_address == "10.0.0.8:50051"
    ended = await repo.set_call_state(call.call_id, ENDED, "hangup")
    assert ended.dialer_address == ""  # nobody runs a finished call


async def test_a_lease_address_that_is_not_host_and_port_is_refused(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    with pytest.raises(InvalidArgument, match="host:port"):
        await repo.set_call_state(call.call_id, DIALING, lease=CallLease("d", LEASE_SEC, "nope"))
