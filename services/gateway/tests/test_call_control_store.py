"""Call control against the real store (gRPC, SQLite): Idempotency-Key, completion webhooks
posted to a real HTTP receiver on loopback, hang-up and transfer through the dialer's RPCs.

The dialer is scripted (it creates the call in the real store, counts its dials and
records hang-ups and transfers); everything else is the production code path:
``GrpcCallBackend``, the store servicer and repository, ``WebhookDispatcher`` with
``GrpcWebhookJobs``, httpx over a socket.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from switchboard import convert, domain
from switchboard.config import ServiceAddresses, Settings
from switchboard.jobs import JobState, post_call_job_id
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc, store_pb2_grpc
from switchboard_gateway.app import create_app
from switchboard_gateway.grpc_backend import GrpcCallBackend, GrpcWebhookJobs
from switchboard_gateway.webhook_delivery import WebhookDispatcher
from switchboard_gateway.webhook_signing import verify, webhook_secret
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.servicer import StoreServicer
from switchboard_store.sqlite_repository import SqliteCallRepository

API_KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
# Fast back-off so a test sees three tries in well under a second.
RETRY = RetryPolicy(max_attempts=5, backoff_sec=0.05, max_backoff_sec=0.2)


class ScriptedDialer(dialer_pb2_grpc.DialerServicer):  # type: ignore[misc]
    """Creates the call in the real store like the dialer does; counts dials."""

    def __init__(self, store_address: str) -> None:
        self.store_address = store_address
        self.dials = 0
        self.hang_ups: list[tuple[str, str]] = []
        self.transfers: list[tuple[str, str]] = []

    async def PlaceCall(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.dials += 1
        await asyncio.sleep(0.2)  # dialling takes a while: concurrent retries overlap it
        store = StoreClient(self.store_address)
        try:
            initiate = convert.request_from_pb(request.initiate)
            call = await store.create_call(initiate, domain.CallDirection.OUTBOUND)
            call = await store.set_call_state(call.call_id, domain.CallState.DIALING)
        finally:
            await store.close()
        return convert.call_to_pb(call)

    async def HangUp(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.hang_ups.append((request.call_id, request.reason))
        return dialer_pb2.HangUpResponse(was_live=True)

    async def Transfer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.transfers.append((request.call_id, request.target))
        return dialer_pb2.TransferResponse(accepted=True)


class Receiver:
    """A webhook receiver on loopback: checks signatures, fails the first tries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = verify(
                    webhook_secret(API_KEY),
                    self.headers.get("X-Switchboard-Signature", ""),
                    body,
                    time.time(),
                )
                receiver.attempts.append(
                    {"signed": signed, "delivery": self.headers["X-Switchboard-Delivery"]}
                )
                fail = not signed or len(receiver.attempts) <= receiver.failures
                if not fail:
                    receiver.delivered.append(json.loads(body))
                self.send_response(500 if fail else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stack:
    def __init__(self, store_address: str, dialer: ScriptedDialer, repo: SqliteCallRepository):
        self.store_address = store_address
        self.dialer = dialer
        self.repo = repo
        settings = Settings.model_validate(
            {"gateway": {"api_keys": [API_KEY], "webhooks": {"allow_hosts": ["127.0.0.1"]}}}
        )
        self.settings = settings
        addresses = ServiceAddresses(
            dialer=store_address, store=store_address, speech=store_address, brain=store_address
        )
        self.backend = GrpcCallBackend(addresses)
        self.app = create_app(settings, self.backend)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://gw", headers=AUTH
        )
        self.dispatcher = WebhookDispatcher(
            GrpcWebhookJobs(store_address),
            settings.gateway.api_keys,
            settings.gateway.webhooks,
            worker_id="test-gateway",
        )

    async def deliver_until_idle(self, rounds: int = 40) -> None:
        """Runs the dispatcher until no webhook job is due or waiting for its back-off."""
        for _ in range(rounds):
            if not await self.dispatcher.run_next():
                pending = [
                    j
                    for j in await self.repo.jobs.list_jobs(JobState.PENDING)
                    if j.kind == "webhook"
                ]
                if not pending:
                    return
                await asyncio.sleep(0.05)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    repo = await SqliteCallRepository.open(tmp_path / "store.db", None, RETRY)
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    address = f"127.0.0.1:{port}"
    dialer = ScriptedDialer(address)
    store_pb2_grpc.add_StoreServicer_to_server(StoreServicer(repo), server)
    dialer_pb2_grpc.add_DialerServicer_to_server(dialer, server)
    await server.start()
    built = Stack(address, dialer, repo)
    try:
        yield built
    finally:
        await built.http.aclose()
        await built.dispatcher.stop()
        await built.backend.close()
        await server.stop(0)
        await repo.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as running:
        yield running


def body(number: str = "+14155550123", **extra: Any) -> dict[str, Any]:
    return {
        "bot_company": "Contoso",
        "bot_name": "Joe",
        "phone_number": number,
        "agent_phone_number": "+14155550199",
        "claim": [],
        **extra,
    }


async def test_concurrent_requests_with_one_idempotency_key_dial_once(stack: Stack) -> None:
    key = {"Idempotency-Key": "order-7781"}
    answers = await asyncio.gather(
        *(stack.http.post("/call", json=body(), headers=key) for _ in range(5))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409], [a.text for a in answers]
    assert stack.dialer.dials == 1
    [first] = [a.json() for a in answers if a.status_code == 201]

    retry = await stack.http.post("/call", json=body(), headers=key)
    assert (retry.status_code, retry.headers.get("Idempotent-Replayed")) == (200, "true")
    assert retry.json()["call_id"] == first["call_id"]

    other = await stack.http.post("/call", json=body(task="Something else."), headers=key)
    assert other.status_code == 422
    assert "different request body" in other.json()["error"]["message"]
    assert stack.dialer.dials == 1

    # Another client (API key) has its own keys; without a key every request dials.
    assert (await stack.http.post("/call", json=body("+14155550124"))).status_code == 201
    assert stack.dialer.dials == 2


async def test_a_call_that_never_connected_is_posted_once_signed_after_two_failures(
    stack: Stack, receiver: Receiver
) -> None:
    placed = await stack.http.post("/call", json=body(callback_url=receiver.url))
    assert placed.status_code == 201
    call_id = placed.json()["call_id"]
    await stack.deliver_until_idle()
    assert receiver.attempts == []  # not over yet: nothing to post

    await stack.repo.set_call_state(call_id, domain.CallState.FAILED, "no_answer")
    await stack.deliver_until_idle()
    await stack.deliver_until_idle()  # and again: a delivered webhook is not posted twice

    assert [a["signed"] for a in receiver.attempts] == [True, True, True]
    assert {a["delivery"] for a in receiver.attempts} == {f"webhook:{call_id}:1"}
    [delivered] = receiver.delivered
    assert delivered["event"] == "call.ended"
    assert delivered["delivery_id"] == f"webhook:{call_id}:1"
    assert (delivered["call"]["call_id"], delivered["call"]["state"]) == (call_id, "failed")
    [job] = [j for j in await stack.repo.jobs.list_jobs() if j.kind == "webhook"]
    assert (job.state, job.attempts) == (JobState.DONE, 3)


async def test_a_connected_call_is_posted_with_its_synthesis(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.failures = 0
    placed = await stack.http.post("/call", json=body(callback_url=receiver.url))
    call_id = placed.json()["call_id"]
    await stack.repo.set_call_state(call_id, domain.CallState.IN_PROGRESS)
    await stack.repo.set_call_state(call_id, domain.CallState.ENDED, "goodbye")
    await stack.deliver_until_idle()
    assert receiver.attempts == []  # the report is not complete before the synthesis

    await stack.repo.save_synthesis(
        call_id,
        domain.Synthesis(short="claim filed", satisfaction="high"),
        domain.NextAction(action="case_closed"),
        job_id=post_call_job_id(call_id, 1),
    )
    await stack.deliver_until_idle()

    [delivered] = receiver.delivered
    assert delivered["call"]["synthesis"]["short"] == "claim filed"
    assert delivered["call"]["next_action"]["action"] == "case_closed"


async def test_a_receiver_that_never_answers_2xx_leaves_a_dead_job(stack: Stack) -> None:
    with Receiver(failures=100) as failing:
        placed = await stack.http.post("/call", json=body(callback_url=failing.url))
        call_id = placed.json()["call_id"]
        await stack.repo.set_call_state(call_id, domain.CallState.FAILED, "busy")
        await stack.deliver_until_idle()

    assert len(failing.attempts) == RETRY.max_attempts
    [job] = await stack.repo.jobs.list_jobs(JobState.DEAD)
    assert job.last_error == "the receiver answered HTTP 500"


async def test_hang_up_and_transfer_reach_the_dialer_and_an_ended_call_is_a_409(
    stack: Stack,
) -> None:
    call_id = (await stack.http.post("/call", json=body())).json()["call_id"]

    refused = await stack.http.post(f"/call/{call_id}/transfer", json={})
    assert refused.status_code == 409  # dialling, not connected yet

    await stack.repo.set_call_state(call_id, domain.CallState.IN_PROGRESS)
    moved = await stack.http.post(f"/call/{call_id}/transfer", json={"target": "+1 415 555 0142"})
    assert moved.status_code == 202
    assert stack.dialer.transfers == [(call_id, "+14155550142")]

    live = await stack.http.get("/call", params={"state": "live"})
    assert [c["call_id"] for c in live.json()] == [call_id]

    hung = await stack.http.post(f"/call/{call_id}/hangup")
    assert hung.status_code == 202
    assert stack.dialer.hang_ups == [(call_id, "api_hangup")]

    await stack.repo.set_call_state(call_id, domain.CallState.ENDED, "api_hangup")
    again = await stack.http.post(f"/call/{call_id}/hangup")
    assert again.status_code == 409
    assert (await stack.http.get("/call", params={"state": "live"})).json() == []
    unknown = await stack.http.post("/call/6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90/hangup")
    assert unknown.status_code == 404
