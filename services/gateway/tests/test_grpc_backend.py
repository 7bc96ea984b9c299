"""The gRPC backend against in-process Dialer, Store and health servers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from switchboard import convert
from switchboard.config import ServiceAddresses
from switchboard.domain import CallRequest, CallState, ClaimField, ClaimFieldType
from switchboard.errors import InvalidArgument, NotFound
from switchboard.v1 import common_pb2, dialer_pb2_grpc, store_pb2, store_pb2_grpc
from switchboard_gateway.backend import DialTimeout
from switchboard_gateway.dialer_client import DialerClient
from switchboard_gateway.grpc_backend import GrpcCallBackend

BLOCKED = "+14155550100"
SLOW = "+14155550111"
CALL_ID = "6f1c1f3e-2b7a-4d8e-9c1a-0b2d3e4f5a6b"

REQUEST = CallRequest(
    bot_company="Contoso",
    bot_name="Joe",
    phone_number="+14155550123",
    agent_phone_number="+14155550199",
    task="Collect the claim.",
    claim=(ClaimField(name="incident_date", type=ClaimFieldType.DATETIME),),
    timezone="America/Los_Angeles",
)


class ScriptedDialer(dialer_pb2_grpc.DialerServicer):  # type: ignore[misc]
    async def PlaceCall(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        number = request.initiate.phone_number
        if number == BLOCKED:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "phone_number is blocked")
        if number == SLOW:
            await asyncio.sleep(1)
        return common_pb2.Call(
            call_id=CALL_ID, initiate=request.initiate, state=common_pb2.CALL_STATE_DIALING
        )


class ScriptedStore(store_pb2_grpc.StoreServicer):  # type: ignore[misc]
    async def GetCall(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request.call_id != CALL_ID:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no call {request.call_id}")
        return common_pb2.Call(
            call_id=CALL_ID,
            initiate=convert.request_to_pb(REQUEST),
            state=common_pb2.CALL_STATE_ENDED,
            claim={"incident_date": "2026-03-02T00:00:00-08:00"},
        )

    async def ListCalls(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = common_pb2.Call(
            call_id=CALL_ID,
            initiate=convert.request_to_pb(REQUEST),
            state=common_pb2.CALL_STATE_ENDED,
        )
        return store_pb2.ListCallsResponse(calls=[call], total=7)


def unused_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def address() -> AsyncIterator[str]:
    server = grpc.aio.server()
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    dialer_pb2_grpc.add_DialerServicer_to_server(ScriptedDialer(), server)
    store_pb2_grpc.add_StoreServicer_to_server(ScriptedStore(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


@pytest.fixture
async def backend(address: str) -> AsyncIterator[GrpcCallBackend]:
    dead = unused_address()
    services = ServiceAddresses(dialer=address, store=address, speech=dead, brain=dead)
    grpc_backend = GrpcCallBackend(services, health_timeout_sec=0.3)
    try:
        yield grpc_backend
    finally:
        await grpc_backend.close()


async def test_placing_a_call_goes_through_the_dialer_and_comes_back_as_a_domain_call(
    backend: GrpcCallBackend,
) -> None:
    call = await backend.place_call(REQUEST)
    assert call.call_id == CALL_ID
    assert call.state is CallState.DIALING
    assert call.initiate == REQUEST


async def test_a_dialer_refusal_becomes_a_domain_error_with_its_message(
    backend: GrpcCallBackend,
) -> None:
    with pytest.raises(InvalidArgument, match="blocked"):
        await backend.place_call(REQUEST.model_copy(update={"phone_number": BLOCKED}))


async def test_a_slow_dialer_is_a_dial_timeout(address: str) -> None:
    dialer = DialerClient(address, timeout_sec=0.2)
    try:
        with pytest.raises(DialTimeout, match="may still be placed"):
            await dialer.place_call(REQUEST.model_copy(update={"phone_number": SLOW}))
    finally:
        await dialer.close()


async def test_reads_go_to_the_store(backend: GrpcCallBackend) -> None:
    call = await backend.get_call(CALL_ID)
    assert call.claim == {"incident_date": "2026-03-02T00:00:00-08:00"}
    calls, total = await backend.list_calls("+14155550123")
    assert [c.call_id for c in calls] == [CALL_ID] and total == 7
    with pytest.raises(NotFound):
        await backend.get_call("00000000-0000-4000-8000-000000000000")


async def test_readiness_checks_each_service_and_fails_those_not_listening(
    backend: GrpcCallBackend,
) -> None:
    checks = {c.id: c.ok for c in await backend.readiness()}
    assert checks == {"dialer": True, "speech": False, "brain": False, "store": True}
