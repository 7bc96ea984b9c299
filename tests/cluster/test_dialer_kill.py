"""A dialer dying mid-call: the words already said stay stored and the call ends
``line_dropped`` with one post-call report, instead of staying ``in_progress`` forever.

A call's media session lives in the dialer process that runs it, so a SIGKILLed dialer
takes the rest of the call with it (the callee hears a dead line). What must not be
lost is what was said before, and the call must be closed: at once when that dialer
comes back under the same name, or by another dialer replica once the dead one's lease
on the call expired. A callback inside the window still resumes the conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from switchboard import convert, domain
from switchboard.call_leases import LINE_DROPPED
from switchboard.jobs import POST_CALL, JobState
from switchboard.phone import (
    BotSaid,
    BotTurnDone,
    PhoneAnswer,
    PhoneMode,
    PhoneRegister,
    PhoneRinging,
    PhoneSay,
)
from switchboard.phone_client import PhoneClient
from switchboard.service_main import LISTEN_ENV
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_cli.launcher import Cluster, free_port, grpc_ready
from switchboard_cli.scenario import DEFAULT_REQUEST
from tests.cluster.harness import started_cluster, syntheses_of, unique_number
from tests.cluster.inbound_caller import call_in

# The cluster's own dialer holds its leases for a minute: a call of it that ends sooner
# after a kill was ended by its restart, not by a lease running out.
LONG_LEASE_SEC = "60"
# The second dialer's leases: it is killed for good, the first one sweeps.
SHORT_LEASE_SEC = 3.0
WAIT_SEC = 45.0
# The e-mail is still missing when the line dies: the conversation is unfinished, so
# the callee's callback may resume it (caller ID never reopens a completed one).
LINES = [
    "It happened on the third of March at 10 am.",
    "A tree fell on the fence.",
    "Hold on, let me find my policy papers.",
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("dialer-kill")
    with started_cluster(
        root,
        {
            "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "5",
            "SWITCHBOARD__DIALER__LEASE_SEC": LONG_LEASE_SEC,
            "SWITCHBOARD__DIALER__LEASE_RENEW_SEC": "1",
            "SWITCHBOARD__DIALER__ORPHAN_SWEEP_SEC": "0.5",
            "SWITCHBOARD__BRAIN__POST_CALL__POLL_SEC": "0.2",
        },
    ) as cluster:
        yield cluster


def request_for(number: str) -> domain.CallRequest:
    return domain.CallRequest.model_validate({**DEFAULT_REQUEST, "phone_number": number})


async def place_through_gateway(cluster: Cluster, request: domain.CallRequest) -> str:
    async with httpx.AsyncClient(timeout=10.0) as http:
        reply = await http.post(
            f"{cluster.gateway_url}/call",
            # The REST request is the domain request without what the gateway derives
            # (``langs`` comes from the ``lang`` object).
            json=request.model_dump(mode="json", exclude={"langs"}),
            headers={"Authorization": f"Bearer {cluster.api_key}"},
        )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["call_id"])


def place_on(dialer_address: str) -> Callable[[domain.CallRequest], Any]:
    """``PlaceCall`` straight on one dialer replica (the gateway knows only the first)."""

    async def place(request: domain.CallRequest) -> str:
        async with grpc.aio.insecure_channel(dialer_address) as channel:
            stub = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
            call = await stub.PlaceCall(
                dialer_pb2.PlaceCallRequest(initiate=convert.request_to_pb(request)), timeout=10
            )
        return str(call.call_id)

    return place


async def talk_until_killed(
    dialer_address: str,
    request: domain.CallRequest,
    place: Callable[[domain.CallRequest], Any],
    kill: Callable[[], None],
) -> str:
    """Answers the call, says :data:`LINES` one per bot turn and kills the dialer as soon
    as the bot starts answering the last one; returns the call id."""
    phones = PhoneClient(dialer_address, wait_for_ready=True)
    phone = await phones.register(
        PhoneRegister(request.phone_number, PhoneMode.TEXT), timeout_sec=30
    )
    pending = list(LINES)
    try:
        async with asyncio.timeout(WAIT_SEC):
            call_id = await place(request)
            async for event in phone.events():
                match event:
                    case PhoneRinging(call_id=ringing):
                        await phone.send(PhoneAnswer(ringing))
                    case BotSaid() if not pending:
                        kill()  # mid-turn: the bot is answering the last line
                        break
                    case BotTurnDone() if pending:
                        await phone.send(PhoneSay(pending.pop(0)))
    finally:
        with contextlib.suppress(Exception):  # the line died with the dialer
            await phone.close()
        with contextlib.suppress(Exception):
            await phones.close()
    return call_id


async def call_when(
    cluster: Cluster, call_id: str, done: Callable[[domain.Call], bool]
) -> domain.Call:
    """The stored call once ``done`` holds for it (polled for up to :data:`WAIT_SEC`)."""
    store = StoreClient(cluster.ports.grpc_address("store"))
    try:
        async with asyncio.timeout(WAIT_SEC):
            while True:
                call = await store.get_call(call_id)
                if done(call):
                    return call
                await asyncio.sleep(0.1)
    finally:
        await store.close()


async def post_call_jobs(cluster: Cluster, call_id: str) -> list[tuple[str, JobState]]:
    store = StoreClient(cluster.ports.grpc_address("store"))
    try:
        return [(j.job_id, j.state) for j in await store.list_jobs() if j.call_id == call_id]
    finally:
        await store.close()


def ended(call: domain.Call) -> bool:
    return call.state is domain.CallState.ENDED


def reported(call: domain.Call) -> bool:
    return call.synthesis is not None


def human_lines(call: domain.Call) -> list[str]:
    return [m.content for m in call.messages if m.persona is domain.Persona.HUMAN and m.content]


def assert_closed_with_one_report(cluster: Cluster, call: domain.Call, attempt: int = 1) -> None:
    assert (call.state, call.state_reason) == (domain.CallState.ENDED, LINE_DROPPED)
    assert human_lines(call) == LINES  # every line said before the kill, once, in order
    reported_call = asyncio.run(call_when(cluster, call.call_id, reported))
    assert reported_call.synthesis is not None
    assert len(syntheses_of(cluster, call.call_id)) == 1
    jobs = asyncio.run(post_call_jobs(cluster, call.call_id))
    assert jobs == [(f"{POST_CALL}:{call.call_id}:{attempt}", JobState.DONE)]


def test_a_dialer_killed_mid_call_ends_the_call_as_line_dropped_at_its_restart(
    cluster: Cluster,
) -> None:
    request = request_for(unique_number())
    dialer = cluster.ports.grpc_address("dialer")

    call_id = asyncio.run(
        talk_until_killed(
            dialer,
            request,
            lambda r: place_through_gateway(cluster, r),
            lambda: cluster.kill("dialer"),
        )
    )
    # Dead dialer, nobody to end the call yet (its lease has most of a minute left).
    orphan = asyncio.run(call_when(cluster, call_id, lambda c: True))
    assert orphan.state is domain.CallState.IN_PROGRESS
    assert human_lines(orphan) == LINES  # stored before the kill, not lost with the dialer

    cluster.restart("dialer")
    # Ended by the restart itself before the dialer serves (its lease is far from over).
    call = asyncio.run(call_when(cluster, call_id, lambda c: True))
    assert_closed_with_one_report(cluster, call)


def test_another_dialer_ends_a_dead_replicas_call_after_its_lease_and_a_callback_resumes_it(
    cluster: Cluster, tmp_path: Path
) -> None:
    port = free_port()
    second = f"127.0.0.1:{port}"
    log = (tmp_path / "dialer-b.log").open("wb")
    env = {
        **cluster.child_env(),
        LISTEN_ENV: second,
        "SWITCHBOARD__DIALER__REPLICA_ID": "dialer-b",
        "SWITCHBOARD__DIALER__LEASE_SEC": str(SHORT_LEASE_SEC),
        "SWITCHBOARD__DIALER__LEASE_RENEW_SEC": "0.5",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard_dialer"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + WAIT_SEC
        while not grpc_ready(second):
            assert process.poll() is None, (tmp_path / "dialer-b.log").read_text()
            assert time.monotonic() < deadline, "the second dialer did not start"
            time.sleep(0.1)

        def kill_second() -> None:
            process.kill()
            process.wait()

        request = request_for(unique_number())
        call_id = asyncio.run(talk_until_killed(second, request, place_on(second), kill_second))
        killed_at = time.monotonic()

        # The first dialer ends it once the lease expired, not before.
        call = asyncio.run(call_when(cluster, call_id, ended))
        assert time.monotonic() - killed_at > SHORT_LEASE_SEC / 2
        assert_closed_with_one_report(cluster, call)

        # The callee rings back inside the window: the same conversation goes on.
        back = asyncio.run(
            call_in(cluster.ports.grpc_address("dialer"), request.phone_number, ["goodbye"])
        )
        assert back.call_id == call_id
        resumed = asyncio.run(call_when(cluster, call_id, lambda c: c.attempt == 2 and reported(c)))
        assert human_lines(resumed) == [*LINES, "goodbye"]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()
