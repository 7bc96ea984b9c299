"""REST call control reaches the dialer replica that runs the call.

Two dialer processes share the store; the gateway is given both (``round_robin``), so
``POST /call`` places calls on either. Each replica advertises its own address
(``dialer.advertise_address``, set by the launcher as a pod's IP would be) and records
it in the lease it takes on each live call; the gateway sends ``/hangup`` and
``/transfer`` to that address. Before, half of them landed on the other replica and
answered 409. Every callee's phone is registered on both dialers (a number is
reachable from every replica), and the phone the call rang on is the one that must see
the call end.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.phone import (
    BotTurnDone,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneTransferred,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard_cli.launcher import Cluster
from switchboard_cli.scenario import DEFAULT_REQUEST, register_phone
from tests.cluster.harness import started_cluster, unique_number

pytestmark = pytest.mark.cluster

CALLS = 6  # three hung up, three transferred; round_robin spreads them over both dialers
TARGET = "+14155550142"
WITHIN_SEC = 30.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root: Path = tmp_path_factory.mktemp("call-control-replicas")
    with started_cluster(root, replicas={"dialer": 2}) as cluster:
        yield cluster


@dataclass
class Callee:
    """One number's phones, one per dialer replica; answers wherever the call rings."""

    number: str
    seen: list[tuple[str, PhoneDownlink]] = field(default_factory=list)

    def rang_on(self) -> str:
        """The dialer the call rang on ("" until it rings)."""
        return next((a for a, e in self.seen if isinstance(e, PhoneRinging)), "")

    def saw(self, address: str, kind: type[Any]) -> list[Any]:
        return [e for a, e in self.seen if a == address and isinstance(e, kind)]

    async def watch(self, address: str, phone: GrpcPhoneStream) -> None:
        async for event in phone.events():
            self.seen.append((address, event))
            if isinstance(event, PhoneRinging):
                await phone.send(PhoneAnswer(event.call_id))


async def until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WITHIN_SEC
    while not (found := await check() if asyncio.iscoroutinefunction(check) else check()):
        assert time.monotonic() < deadline, f"{what}: not within {WITHIN_SEC:.0f} s"
        await asyncio.sleep(0.05)
    return found


async def control_every_call(cluster: Cluster) -> list[dict[str, Any]]:
    dialers = cluster.grpc_addresses("dialer")
    callees = [Callee(unique_number()) for _ in range(CALLS)]
    headers = {"Authorization": f"Bearer {cluster.api_key}"}
    outcomes: list[dict[str, Any]] = []
    async with (
        contextlib.AsyncExitStack() as stack,
        asyncio.TaskGroup() as tasks,
        httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers, timeout=15) as api,
    ):
        watchers = []
        for callee in callees:
            for address in dialers:
                client = PhoneClient(address, wait_for_ready=True)
                stack.push_async_callback(client.close)
                phone = await register_phone(client, PhoneRegister(callee.number, PhoneMode.TEXT))
                stack.push_async_callback(phone.close)
                watchers.append(tasks.create_task(callee.watch(address, phone)))
        try:
            call_ids = []
            for callee in callees:
                request = {**DEFAULT_REQUEST, "phone_number": callee.number}
                reply = await api.post("/call", json=request)
                assert reply.status_code == 201, reply.text
                call_ids.append(reply.json()["call_id"])
            for callee in callees:  # every call connected, its greeting said
                rang = await until(callee.rang_on, "a call rang")
                await until(lambda c=callee, r=rang: c.saw(r, BotTurnDone), "the greeting")
            # One replica's calls, then the other's: whatever the order of placing, a
            # round_robin over the replicas would send some of them to the wrong one.
            placed = sorted(zip(callees, call_ids, strict=True), key=lambda c: c[0].rang_on())
            for index, (callee, call_id) in enumerate(placed):
                hang_up = index % 2 == 0
                path = f"/call/{call_id}/" + ("hangup" if hang_up else "transfer")
                body = None if hang_up else {"target": TARGET}
                reply = await api.post(path, json=body)
                # 202, never 409: the request reached the replica that runs the call.
                assert reply.status_code == 202, f"{path}: {reply.status_code} {reply.text}"
                rang = callee.rang_on()
                outcomes.append(
                    {"hang_up": hang_up, "call_id": call_id, "dialer": rang, "callee": callee}
                )  # fmt: skip
            for outcome in outcomes:
                callee, rang = outcome["callee"], outcome["dialer"]
                await until(lambda c=callee, r=rang: c.saw(r, PhoneCallEnded), "the call ended")

                async def ended(call_id: str = outcome["call_id"]) -> dict[str, Any] | None:
                    stored: dict[str, Any] = (await api.get(f"/call/{call_id}")).json()
                    return stored if stored["state"] == "ended" else None

                outcome["stored"] = await until(ended, "the stored call ended")
        finally:
            for watcher in watchers:
                watcher.cancel()
    return outcomes


def test_hang_up_and_transfer_reach_the_dialer_replica_running_each_call(
    cluster: Cluster,
) -> None:
    outcomes = asyncio.run(control_every_call(cluster))
    dialers = set(cluster.grpc_addresses("dialer"))
    # Both replicas ran calls: round_robin alone would have sent half the requests astray.
    assert {o["dialer"] for o in outcomes} == dialers
    others = {o["call_id"]: [c for c in o["callee"].seen if c[0] != o["dialer"]] for o in outcomes}
    for outcome in outcomes:
        callee, rang, stored = outcome["callee"], outcome["dialer"], outcome["stored"]
        [end] = callee.saw(rang, PhoneCallEnded)  # the call's own line, once
        if outcome["hang_up"]:
            assert end.reason == "api_hangup"
            assert stored["state_reason"] == "api_hangup"
            assert callee.saw(rang, PhoneTransferred) == []
        else:
            assert [t.target for t in callee.saw(rang, PhoneTransferred)] == [TARGET]
            assert stored["state_reason"] == "transferred"
        # The other replica's phone for this number never rang: nothing happened there.
        assert others[outcome["call_id"]] == [], others[outcome["call_id"]]
