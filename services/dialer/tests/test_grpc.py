"""The dialer over real gRPC, with the real Store (SQLite) and Brain (form policy) in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from switchboard import convert, domain
from switchboard.brain_client import BrainClient
from switchboard.call_events import CallEvent
from switchboard.clock import SystemClock
from switchboard.config import BrainSettings, DialerSettings, Features, Settings
from switchboard.features import FeatureFlags
from switchboard.server import GrpcService
from switchboard.store_client import StoreClient
from switchboard.v1 import common_pb2, dialer_pb2, dialer_pb2_grpc
from switchboard_brain.policy import create_policy
from switchboard_brain.servicer import BrainServicer, register
from switchboard_dialer.app import DialerApp, build_dialer
from switchboard_dialer.telephony.simulator import SimulatorProvider
from switchboard_store.__main__ import serve_repository
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.dialer_fakes import make_request

CALLEE = "+14155550100"


def two_field_request(number: str = CALLEE) -> common_pb2.CallRequest:
    """A claim the form policy cannot finish in one turn, so the caller ends the call."""
    request = convert.request_to_pb(make_request(number))
    request.claim.add(name="policy_number", type=common_pb2.CLAIM_FIELD_TYPE_TEXT)
    return request


async def start_brain(store_address: str, port: int = 0) -> tuple[GrpcService, StoreClient]:
    service = GrpcService("brain", f"127.0.0.1:{port}", ["switchboard.v1.Brain"])
    store = StoreClient(store_address)
    flags = FeatureFlags(Features())
    register(
        service.server,
        BrainServicer(store, SystemClock(), flags, create_policy("form", BrainSettings())),
    )
    await service.start()
    return service, store


@dataclass
class Cluster:
    dialer: dialer_pb2_grpc.DialerStub
    store: StoreClient
    app: DialerApp
    brain: GrpcService
    store_address: str

    async def restart_brain(self) -> None:
        """Kills the brain and starts a new one on the same port."""
        port = self.brain.port
        await self.brain.stop(0)
        self.brain, _ = await start_brain(self.store_address, port)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    repository = await SqliteCallRepository.open(tmp_path / "calls.db")
    store_service = GrpcService("store", "127.0.0.1:0", ["switchboard.v1.Store"])
    serve_repository(store_service, repository)
    store_address = f"127.0.0.1:{await store_service.start()}"
    brain_service, brain_store = await start_brain(store_address)

    store = StoreClient(store_address)
    brain = BrainClient(f"127.0.0.1:{brain_service.port}")
    app = build_dialer(
        store,
        brain,
        SimulatorProvider(no_phone_delay_sec=0.05),
        FeatureFlags(Features()),
        Settings(dialer=DialerSettings(reconnect_timeout_sec=10)),
    )
    dialer_service = GrpcService("dialer", "127.0.0.1:0", ["switchboard.v1.Dialer"])
    dialer_pb2_grpc.add_DialerServicer_to_server(app.servicer, dialer_service.server)
    port = await dialer_service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    cluster = Cluster(dialer_pb2_grpc.DialerStub(channel), store, app, brain_service, store_address)
    try:
        yield cluster
    finally:
        await channel.close()
        await app.stop()
        await dialer_service.stop(0)
        await brain.close()
        await cluster.brain.stop(0)
        await brain_store.close()
        await store.close()
        await store_service.stop(0)


class WirePhone:
    """A virtual phone on the ``Dialer.Phone`` stream."""

    def __init__(self, stub: dialer_pb2_grpc.DialerStub) -> None:
        self._uplink: asyncio.Queue[dialer_pb2.PhoneUplink | None] = asyncio.Queue()
        self.stream = stub.Phone(self._requests())

    async def _requests(self) -> AsyncIterator[dialer_pb2.PhoneUplink]:
        while (message := await self._uplink.get()) is not None:
            yield message

    def send(self, **event: object) -> None:
        self._uplink.put_nowait(dialer_pb2.PhoneUplink(**event))  # type: ignore[arg-type]

    def register(self, number: str = CALLEE) -> None:
        self.send(register=dialer_pb2.PhoneRegister(number=number, mode=dialer_pb2.PHONE_MODE_TEXT))

    def close(self) -> None:
        self._uplink.put_nowait(None)

    async def until(self, kind: str) -> list[dialer_pb2.PhoneDownlink]:
        events = []
        async with asyncio.timeout(5):
            while True:
                message = await self.stream.read()
                assert message is not grpc.aio.EOF, f"stream ended before {kind}"
                events.append(message)
                if message.WhichOneof("event") == kind:
                    return events

    async def error(self) -> grpc.StatusCode:
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            async with asyncio.timeout(5):
                while await self.stream.read() is not grpc.aio.EOF:
                    pass
        return failure.value.code()


def said(events: list[dialer_pb2.PhoneDownlink]) -> list[str]:
    return [e.bot_said.text for e in events if e.WhichOneof("event") == "bot_said"]


async def connect(cluster: Cluster) -> tuple[WirePhone, str]:
    phone = WirePhone(cluster.dialer)
    phone.register()
    await phone.until("registered")
    call = await cluster.dialer.PlaceCall(dialer_pb2.PlaceCallRequest(initiate=two_field_request()))
    ringing = (await phone.until("ringing"))[-1].ringing
    assert ringing.call_id == call.call_id
    phone.send(answer=dialer_pb2.PhoneAnswer(call_id=call.call_id))
    await phone.until("connected")
    greeting = said(await phone.until("bot_turn_done"))
    assert greeting and "Amy" in greeting[0]
    return phone, call.call_id


async def test_a_phone_registers_over_grpc_and_completes_a_call_with_the_real_brain(
    cluster: Cluster,
):
    phone, call_id = await connect(cluster)

    phone.send(say=dialer_pb2.PhoneSay(text="A tree fell on my car."))
    assert said(await phone.until("bot_turn_done"))
    phone.send(hang_up=dialer_pb2.PhoneHangUp(reason="done"))
    assert (await phone.until("ended"))[-1].ended.reason == "caller_hangup"
    await cluster.app.registry.wait_ended(call_id)
    phone.close()

    stored = await cluster.store.get_call(call_id)
    assert stored.state.value == "ended" and stored.state_reason == "caller_hangup"
    assert any(m.content == "A tree fell on my car." for m in stored.messages)
    states = [e.payload async for e in _watch(cluster, call_id)]
    assert domain.CallState.IN_PROGRESS in states


async def _watch(cluster: Cluster, call_id: str) -> AsyncIterator[CallEvent]:
    events = cluster.store.watch_call(call_id)
    try:
        async with asyncio.timeout(0.5):
            async for event in events:
                yield event
    except TimeoutError:
        pass  # a watch stays open for new events
    finally:
        await events.aclose()  # type: ignore[attr-defined]


async def test_a_brain_killed_mid_call_is_reconnected_and_the_call_goes_on(cluster: Cluster):
    phone, call_id = await connect(cluster)

    await cluster.restart_brain()
    phone.send(say=dialer_pb2.PhoneSay(text="A tree fell on my car."))
    answer = said(await phone.until("bot_turn_done"))

    assert answer and not any("Amy" in s for s in answer)  # no second greeting
    phone.send(hang_up=dialer_pb2.PhoneHangUp())
    await phone.until("ended")
    await cluster.app.registry.wait_ended(call_id)
    assert (await cluster.store.get_call(call_id)).state_reason == "caller_hangup"


async def test_a_first_message_that_is_not_register_is_refused(cluster: Cluster):
    phone = WirePhone(cluster.dialer)
    phone.send(say=dialer_pb2.PhoneSay(text="hello?"))
    assert await phone.error() == grpc.StatusCode.INVALID_ARGUMENT


async def test_registering_a_number_that_is_not_e164_is_refused(cluster: Cluster):
    phone = WirePhone(cluster.dialer)
    phone.register("0612345678")
    assert await phone.error() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_empty_uplink_message_is_refused_and_other_phones_keep_working(
    cluster: Cluster,
):
    broken = WirePhone(cluster.dialer)
    broken.register("+14155550177")
    await broken.until("registered")
    broken.send()
    assert await broken.error() == grpc.StatusCode.INVALID_ARGUMENT

    phone, _ = await connect(cluster)
    phone.send(hang_up=dialer_pb2.PhoneHangUp())
    await phone.until("ended")


async def test_a_second_registration_of_a_number_is_refused(cluster: Cluster):
    first = WirePhone(cluster.dialer)
    first.register()
    await first.until("registered")
    second = WirePhone(cluster.dialer)
    second.register()
    assert await second.error() == grpc.StatusCode.ALREADY_EXISTS


async def test_place_call_refuses_a_number_that_is_not_e164(cluster: Cluster):
    request = dialer_pb2.PlaceCallRequest(
        initiate=convert.request_to_pb(make_request("0612345678"))
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await cluster.dialer.PlaceCall(request)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "E.164" in (failure.value.details() or "")


async def test_a_call_to_a_number_without_a_phone_fails_with_no_answer(cluster: Cluster):
    request = dialer_pb2.PlaceCallRequest(initiate=convert.request_to_pb(make_request()))
    call = await cluster.dialer.PlaceCall(request)
    await cluster.app.registry.wait_ended(call.call_id)
    stored = await cluster.store.get_call(call.call_id)
    assert (stored.state.value, stored.state_reason) == ("failed", "no_answer")
