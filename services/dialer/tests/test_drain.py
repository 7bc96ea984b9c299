"""A dialer that gets SIGTERM drains: no new calls, live ones finish or get a goodbye.

On the rig's virtual clock, so a 60-second drain runs in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from switchboard import convert
from switchboard.config import Features
from switchboard.converse import CallTimeUp
from switchboard.errors import Unavailable
from switchboard.phone import PhoneCall, PhoneCallEnded, PhoneRinging, PhoneSay
from switchboard.server import GrpcService
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_dialer.__main__ import drain_on_shutdown
from switchboard_dialer.registry import DRAIN_GOODBYE_GRACE_SEC
from switchboard_testing.dialer_fakes import DRAINED, Rig, build_rig, make_request, said

DRAIN_SEC = 60.0


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """A rig whose silence timer stays quiet for the whole drain time."""
    rig = build_rig(Features(phone_silence_timeout_sec=10 * DRAIN_SEC))
    yield rig
    await rig.app.stop()


def start_draining(rig: Rig) -> asyncio.Task[None]:
    return asyncio.create_task(rig.app.drain(DRAIN_SEC), name="drain")


async def test_a_call_that_ends_inside_the_drain_time_ends_normally(rig: Rig) -> None:
    phone, call = await rig.connect()
    drain = start_draining(rig)
    await rig.clock.elapse(DRAIN_SEC / 2)

    await phone.send(PhoneSay(text="that's all, goodbye"))
    events = await phone.until(PhoneCallEnded)

    assert said(events) == ["Goodbye."]
    assert (await rig.ended(call.call_id))[-1] == "ended:goodbye"
    await asyncio.wait_for(drain, 1)  # the drain ends with its last call, not at the deadline
    assert rig.brain.requests(CallTimeUp) == []


async def test_a_call_still_live_at_the_drain_deadline_hears_the_brains_goodbye_and_ends_drained(
    rig: Rig,
) -> None:
    phone, call = await rig.connect()
    drain = start_draining(rig)

    await rig.clock.elapse(DRAIN_SEC - 1)
    assert rig.brain.requests(CallTimeUp) == []  # still inside the drain time
    await rig.clock.elapse(1)
    events = await phone.until(PhoneCallEnded)

    assert said(events) == [DRAINED]  # said by the brain, which stores it
    assert events[-1] == PhoneCallEnded(reason="drained")
    assert rig.brain.requests(CallTimeUp) == [CallTimeUp("drained")]
    assert (await rig.ended(call.call_id))[-1] == "ended:drained"  # the store queues post-call
    assert rig.store.calls[call.call_id].messages == []  # the transcript has one writer
    await asyncio.wait_for(drain, 1)


async def test_a_drained_call_ends_after_the_goodbye_grace_when_the_brain_says_nothing(
    rig: Rig,
) -> None:
    rig.brain.answers_time_up = False
    phone, call = await rig.connect()
    drain = start_draining(rig)

    await rig.clock.elapse(DRAIN_SEC)
    await rig.clock.elapse(DRAIN_GOODBYE_GRACE_SEC - 0.1)
    assert not drain.done()
    await rig.clock.elapse(0.1)

    assert (await phone.until(PhoneCallEnded))[-1] == PhoneCallEnded(reason="drained")
    assert (await rig.ended(call.call_id))[-1] == "ended:drained"
    await asyncio.wait_for(drain, 1)


async def test_a_call_still_ringing_at_the_drain_deadline_is_cancelled_as_drained() -> None:
    rig = build_rig(ring_timeout_sec=3 * DRAIN_SEC)  # the callee never answers
    try:
        phone = rig.phone()
        call = await rig.place()
        await phone.expect(PhoneRinging)
        drain = start_draining(rig)

        await rig.clock.elapse(DRAIN_SEC)

        assert (await rig.ended(call.call_id))[-1] == "ended:drained"
        await asyncio.wait_for(drain, 1)
    finally:
        await rig.app.stop()


async def test_a_call_that_registers_after_the_drain_began_is_drained_too(rig: Rig) -> None:
    first, _ = await rig.connect()
    # The registry alone: as if this call had passed the refusal just before SIGTERM.
    drain = asyncio.create_task(rig.app.registry.drain(DRAIN_SEC), name="drain")
    await rig.clock.elapse(1)
    second, late = await rig.connect("+14155550133")

    await rig.clock.elapse(DRAIN_SEC - 1)

    assert said(await second.until(PhoneCallEnded)) == [DRAINED]
    assert (await rig.ended(late.call_id))[-1] == "ended:drained"
    assert said(await first.until(PhoneCallEnded)) == [DRAINED]
    await asyncio.wait_for(drain, 1)


async def test_a_draining_dialer_refuses_new_calls_placed_or_inbound(rig: Rig) -> None:
    phone, call = await rig.connect()
    drain = start_draining(rig)
    await rig.clock.settle()

    with pytest.raises(Unavailable, match="shutting down"):
        await rig.place("+14155550111")
    caller = rig.phone("+14155550122")
    await caller.send(PhoneCall(to_number="+14155550199"))
    assert await caller.expect(PhoneCallEnded) == PhoneCallEnded(reason="unavailable")

    await phone.send(PhoneSay(text="goodbye"))
    assert (await rig.ended(call.call_id))[-1] == "ended:goodbye"
    await asyncio.wait_for(drain, 1)
    assert list(rig.store.calls) == [call.call_id]  # the refused calls were never created


async def test_a_dialer_with_no_live_calls_drains_at_once(rig: Rig) -> None:
    await asyncio.wait_for(rig.app.drain(DRAIN_SEC), 1)  # no virtual time passes

    assert rig.app.dialer.draining


# The process's shutdown path: GrpcService.stop runs the drain hook __main__ wires.


@pytest.fixture
async def served(rig: Rig) -> AsyncIterator[tuple[GrpcService, grpc.aio.Channel]]:
    service = GrpcService("dialer", "127.0.0.1:0", ["switchboard.v1.Dialer"])
    dialer_pb2_grpc.add_DialerServicer_to_server(rig.app.servicer, service.server)  # type: ignore[no-untyped-call]
    drain_on_shutdown(service, rig.app, DRAIN_SEC)
    port = await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield service, channel
    finally:
        await channel.close()
        await service.stop(0)


async def test_on_sigterm_health_goes_not_serving_at_once_and_new_calls_are_unavailable(
    rig: Rig, served: tuple[GrpcService, grpc.aio.Channel]
) -> None:
    service, channel = served
    health = health_pb2_grpc.HealthStub(channel)  # type: ignore[no-untyped-call]
    dialer = dialer_pb2_grpc.DialerStub(channel)  # type: ignore[no-untyped-call]
    phone, call = await rig.connect()

    stopping = asyncio.create_task(service.stop(), name="sigterm")
    await rig.clock.settle()

    for name in ("", "switchboard.v1.Dialer"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    initiate = convert.request_to_pb(make_request("+14155550111"))
    request = dialer_pb2.PlaceCallRequest(initiate=initiate)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await dialer.PlaceCall(request, timeout=2)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in (refused.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as webhook_refused:
        await dialer.AnswerCall(dialer_pb2.AnswerCallRequest(provider_call_id="c1"), timeout=2)
    assert webhook_refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert not stopping.done()  # the live call holds the process

    await rig.clock.elapse(DRAIN_SEC)
    assert said(await phone.until(PhoneCallEnded)) == [DRAINED]
    assert (await rig.ended(call.call_id))[-1] == "ended:drained"
    await asyncio.wait_for(stopping, 10)
