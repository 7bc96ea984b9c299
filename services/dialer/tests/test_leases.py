"""This replica's leases on its live calls, and the ending of a gone replica's calls."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator

import pytest

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED, MAX_LEASES_PER_RENEWAL, CallLease
from switchboard.errors import Unavailable
from switchboard.phone import (
    BotTurnDone,
    PhoneCall,
    PhoneCallEnded,
    PhoneConnected,
    PhoneHangUp,
)
from switchboard_dialer.leases import replica_name
from switchboard_testing.dialer_fakes import Rig, build_rig, make_request

RENEW_SEC = 2.0
SWEEP_SEC = 3.0
ME = "dialer-7"
OTHER = CallLease("dialer-8", 10.0)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = build_rig(
        replica_id=ME, lease_sec=10.0, lease_renew_sec=RENEW_SEC, orphan_sweep_sec=SWEEP_SEC
    )
    rig.app.leases.start()
    yield rig
    await rig.app.stop()


async def call_of_another_replica(rig: Rig, number: str, inbound: bool = False) -> domain.Call:
    direction = domain.CallDirection.INBOUND if inbound else domain.CallDirection.OUTBOUND
    call = await rig.store.create_call(make_request(number), direction)
    return await rig.store.set_call_state(call.call_id, domain.CallState.IN_PROGRESS, lease=OTHER)


def test_a_replica_is_named_by_config_or_by_host_and_process() -> None:
    assert replica_name(" dialer-0 ") == "dialer-0"
    default = replica_name("")
    assert default == f"{socket.gethostname()}-{os.getpid()}"


async def test_a_placed_call_is_leased_to_this_replica_and_renewed_while_it_lives(rig: Rig):
    phone, call = await rig.connect()
    assert rig.store.leases[call.call_id] == ME

    await rig.clock.elapse(RENEW_SEC)
    assert rig.store.renewals[-1] == (ME, [call.call_id])

    await phone.send(PhoneHangUp(reason=""))
    await rig.ended(call.call_id)
    assert call.call_id not in rig.store.leases  # an ended call holds no lease
    renewals = len(rig.store.renewals)
    await rig.clock.elapse(RENEW_SEC * 3)
    assert len(rig.store.renewals) == renewals  # nothing live: nothing to renew


async def test_a_call_whose_lease_was_lost_is_hung_up_as_line_dropped(rig: Rig):
    phone, call = await rig.connect()
    rig.store.expired.add(call.call_id)  # as if this replica had been cut off too long

    await rig.clock.elapse(RENEW_SEC)

    assert await phone.expect(PhoneCallEnded) == PhoneCallEnded(reason=LINE_DROPPED)
    assert (await rig.ended(call.call_id))[-1] == f"ended:{LINE_DROPPED}"


async def test_calls_of_another_replica_end_when_their_lease_expired(rig: Rig):
    expired = await call_of_another_replica(rig, "+14155550150")
    alive = await call_of_another_replica(rig, "+14155550151")
    rig.store.expired.add(expired.call_id)

    await rig.clock.elapse(SWEEP_SEC)

    assert rig.store.sweeps == [""]
    assert rig.store.reasons(expired.call_id)[-1] == f"ended:{LINE_DROPPED}"
    assert rig.store.calls[alive.call_id].state is domain.CallState.IN_PROGRESS


async def test_a_store_that_is_away_delays_renewals_and_sweeps_but_does_not_stop_them(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    _, call = await rig.connect()
    working = rig.store.renew_call_leases

    async def store_down(*args: object, **kwargs: object) -> list[str]:
        raise Unavailable("store restarting")

    monkeypatch.setattr(rig.store, "renew_call_leases", store_down)
    await rig.clock.elapse(RENEW_SEC)
    monkeypatch.setattr(rig.store, "renew_call_leases", working)
    await rig.clock.elapse(RENEW_SEC)

    assert rig.store.renewals == [(ME, [call.call_id])]
    assert rig.app.registry.is_live(call.call_id)


async def test_a_restarted_replica_ends_the_calls_it_held_before_taking_any():
    rig = build_rig(replica_id=ME)
    mine = await rig.store.create_call(make_request("+14155550160"), domain.CallDirection.OUTBOUND)
    await rig.store.set_call_state(
        mine.call_id, domain.CallState.IN_PROGRESS, lease=CallLease(ME, 10.0)
    )
    others = await call_of_another_replica(rig, "+14155550161")
    try:
        await rig.app.start()

        assert rig.store.sweeps[0] == ME
        assert rig.store.reasons(mine.call_id)[-1] == f"ended:{LINE_DROPPED}"
        assert rig.store.calls[others.call_id].state is domain.CallState.IN_PROGRESS
    finally:
        await rig.app.stop()


async def test_a_callback_resumes_a_call_whose_replica_died(rig: Rig):
    dropped = await call_of_another_replica(rig, "+14155550170", inbound=True)
    rig.store.expired.add(dropped.call_id)
    await rig.clock.elapse(SWEEP_SEC)
    assert rig.store.calls[dropped.call_id].state_reason == LINE_DROPPED

    phone = rig.phone("+14155550170")
    await phone.send(PhoneCall(to_number="+18005550100"))
    again = await phone.expect(PhoneConnected)
    await phone.until(BotTurnDone)  # the greeting: the call runs here now

    assert again.call_id == dropped.call_id
    assert rig.store.leases[dropped.call_id] == ME


async def test_an_inbound_call_live_on_another_replica_is_not_taken_over(rig: Rig):
    live = await call_of_another_replica(rig, "+14155550180", inbound=True)

    phone = rig.phone("+14155550180")
    await phone.send(PhoneCall(to_number="+18005550100"))
    events = await phone.until(PhoneCallEnded)

    assert not any(isinstance(e, BotTurnDone) for e in events)
    assert rig.store.calls[live.call_id].state is domain.CallState.IN_PROGRESS
    assert rig.store.leases[live.call_id] == OTHER.owner
    assert rig.store.reasons(live.call_id) == ["in_progress"]


async def test_a_replica_with_many_calls_renews_them_in_batches_the_store_accepts(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    many = [f"call-{i}" for i in range(MAX_LEASES_PER_RENEWAL * 2 + 1)]
    monkeypatch.setattr(rig.app.registry, "live_call_ids", lambda: many)

    await rig.app.leases.renew()

    assert [len(ids) for _, ids in rig.store.renewals] == [
        MAX_LEASES_PER_RENEWAL,
        MAX_LEASES_PER_RENEWAL,
        1,
    ]
