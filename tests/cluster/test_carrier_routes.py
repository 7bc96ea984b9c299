"""A carrier's media socket and callbacks reach the dialer replica that runs the call.

Two dialer processes share the store, brain and speech; the gateway's ``services.dialer``
is replica A. A call is placed on replica B (as another gateway would, through its
``PlaceCall``). B advertises its address (``dialer.advertise_address``), so the Twilio
URLs it hands the carrier carry a signed route to it; the gateway follows the route:
the status callbacks, the Media Stream (the greeting reaches the phone) and the hang-up
all reach B, not A, which has never heard of the call.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest

from switchboard import convert, domain
from switchboard.service_main import LISTEN_ENV
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_cli.launcher import Cluster, ClusterPorts, free_port, grpc_ready
from switchboard_testing.carrier_rigs import TwilioPhone, TwilioRig
from switchboard_testing.fake_twilio import loud_frames
from tests.cluster.harness import FIXED_NOW, unique_number

pytestmark = pytest.mark.cluster

READY_SEC = 60.0


@dataclass
class TwoDialers:
    cluster: Cluster
    rig: TwilioRig
    replica_b: str  # B's gRPC address


@pytest.fixture(scope="module")
def two_dialers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoDialers]:
    root = tmp_path_factory.mktemp("carrier-routes")
    rig = TwilioRig()
    ports = ClusterPorts.free()
    env = {
        "SWITCHBOARD_CONFIG": str(root / "none.yaml"),
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
        "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "20",
        "SWITCHBOARD__DIALER__ADVERTISE_ADDRESS": ports.grpc_address("dialer"),
        **rig.service_env(f"http://127.0.0.1:{ports.gateway}"),
    }
    cluster = Cluster(
        ports=ports,
        api_key=secrets.token_urlsafe(16),
        data_dir=root / "data",
        log_dir=root / "logs",
        env=env,
    )
    cluster.start()
    replica_b = f"127.0.0.1:{free_port()}"
    b_env = {
        **cluster.child_env(),
        LISTEN_ENV: replica_b,
        "SWITCHBOARD__DIALER__REPLICA_ID": "dialer-b",
        "SWITCHBOARD__DIALER__ADVERTISE_ADDRESS": replica_b,
    }
    with (root / "logs" / "dialer-b.log").open("wb") as log:
        b = subprocess.Popen(
            [sys.executable, "-m", "switchboard_dialer"], env=b_env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + READY_SEC
        while not grpc_ready(replica_b):
            assert b.poll() is None, f"dialer B exited; see {root / 'logs' / 'dialer-b.log'}"
            assert time.monotonic() < deadline, "dialer B not ready"
            time.sleep(0.1)
        yield TwoDialers(cluster, rig, replica_b)
    finally:
        b.terminate()
        try:
            b.wait(timeout=15)
        except subprocess.TimeoutExpired:
            b.kill()
            b.wait()
        cluster.stop()


REQUEST = domain.CallRequest(
    bot_company="Contoso Insurance",
    bot_name="Joe",
    phone_number="+14155550123",
    agent_phone_number="+14155550199",
    task="Help the customer file a claim for the damage to their home.",
    claim=(domain.ClaimField(name="incident_datetime", type="datetime", description="when"),),
)


async def place_on(address: str, number: str) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
        request = REQUEST.model_copy(update={"phone_number": number})
        call = await stub.PlaceCall(
            dialer_pb2.PlaceCallRequest(initiate=convert.request_to_pb(request)), timeout=20
        )
    return str(call.call_id)


def test_the_media_socket_and_callbacks_of_a_call_reach_the_replica_that_placed_it(
    two_dialers: TwoDialers,
) -> None:
    rig, cluster = two_dialers.rig, two_dialers.cluster
    number = unique_number()

    async def call() -> tuple[str, dict[str, Any]]:
        async with rig:
            call_id = await place_on(two_dialers.replica_b, number)
            fake = await asyncio.to_thread(rig.twilio.wait_call, number)
            assert f'name="dialer" value="{two_dialers.replica_b}~' in fake.params["Twiml"]
            phone = await rig.pick_up(number)
            assert isinstance(phone, TwilioPhone)
            await wait(lambda: phone.turn_done_after(0.0), 60, "the greeting played")
            assert loud_frames(phone.bot_frames()) > 25, "the bot's greeting did not reach"
            await phone.hang_up()
            headers = {"Authorization": f"Bearer {cluster.api_key}"}
            async with httpx.AsyncClient(base_url=cluster.gateway_url, headers=headers) as api:

                async def ended() -> dict[str, Any] | None:
                    stored: dict[str, Any] = (await api.get(f"/call/{call_id}")).json()
                    return stored if stored["state"] == "ended" else None

                deadline = time.monotonic() + 20
                while (stored := await ended()) is None:
                    assert time.monotonic() < deadline, "the hang-up never reached replica B"
                    await asyncio.sleep(0.2)
            return call_id, stored

    _, stored = asyncio.run(call())
    assert stored["state_reason"] == "caller_hangup"
    bot = [m["content"] for m in stored["messages"] if m["persona"] == "assistant"]
    assert bot and bot[0].startswith("Hello, this is Joe from Contoso Insurance")


async def wait(check: Any, within_sec: float, what: str) -> None:
    deadline = time.monotonic() + within_sec
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within_sec:.0f} s"
        await asyncio.sleep(0.05)
