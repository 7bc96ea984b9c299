"""lib's ``Dialer.Phone`` client against a scripted dialer over real gRPC (port 0)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from switchboard.errors import AlreadyExists, Unavailable
from switchboard.media import AudioFrame, Dtmf
from switchboard.phone import (
    BotSaid,
    ClearAudio,
    PhoneAnswer,
    PhoneCallEnded,
    PhoneDownlink,
    PhoneHangUp,
    PhoneMode,
    PhoneRegister,
    PhoneRegistered,
    PhoneRinging,
    PhoneSay,
    PhoneUplink,
)
from switchboard.phone_client import GrpcPhoneStream, PhoneClient
from switchboard.phone_wire import downlink_to_pb, uplink_from_pb
from switchboard.v1 import dialer_pb2_grpc
from switchboard_testing.grpc_servers import serving

NUMBER = "+14155550123"
TAKEN = "+14155550100"
SILENT = "+14155550111"  # the dialer ends the stream without registering the number
CALL_ID = "call-1"
PCM = b"\x01\x00" * 160


class ScriptedDialer(dialer_pb2_grpc.DialerServicer):  # type: ignore[misc]
    """Registers the number, rings it, says a line, then records the uplink until it ends."""

    def __init__(self) -> None:
        self.received: list[PhoneUplink | None] = []
        self.uplink_ended = asyncio.Event()

    async def Phone(self, requests: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        first = await anext(aiter(requests))
        register = uplink_from_pb(first)
        assert isinstance(register, PhoneRegister)
        self.received.append(register)
        if register.number == TAKEN:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "the number is taken")
        if register.number == SILENT:
            return
        script: list[PhoneDownlink] = [
            PhoneRinging(CALL_ID, "+14155550199"),
            BotSaid("t1", "Hello!"),
            ClearAudio(),
        ]
        yield downlink_to_pb(PhoneRegistered(register.number))
        for event in script:
            yield downlink_to_pb(event)
        async for msg in requests:
            self.received.append(uplink_from_pb(msg))
        self.uplink_ended.set()
        yield downlink_to_pb(PhoneCallEnded("unregistered"))


@pytest.fixture
async def dialer() -> AsyncIterator[tuple[ScriptedDialer, str]]:
    servicer = ScriptedDialer()
    with_dialer = functools.partial(dialer_pb2_grpc.add_DialerServicer_to_server, servicer)
    async with serving("switchboard.v1.Dialer", with_dialer) as address:
        yield servicer, address


@pytest.fixture
async def client(dialer: tuple[ScriptedDialer, str]) -> AsyncIterator[PhoneClient]:
    client = PhoneClient(dialer[1])
    try:
        yield client
    finally:
        await client.close()


async def first_events(stream: GrpcPhoneStream, count: int) -> list[PhoneDownlink]:
    events: list[PhoneDownlink] = []
    async for event in stream.events():
        events.append(event)
        if len(events) == count:
            break
    return events


async def test_a_registered_phone_receives_the_dialers_events_in_domain_terms(
    client: PhoneClient,
) -> None:
    stream = await client.register(PhoneRegister(NUMBER, PhoneMode.TEXT))
    try:
        assert stream.number == NUMBER
        assert await first_events(stream, 3) == [
            PhoneRinging(CALL_ID, "+14155550199"),
            BotSaid("t1", "Hello!"),
            ClearAudio(),
        ]
    finally:
        await stream.close()


async def test_the_dialer_receives_what_the_phone_sends_in_order_with_frames_numbered_at_its_rate(
    dialer: tuple[ScriptedDialer, str], client: PhoneClient
) -> None:
    servicer, _ = dialer
    stream = await client.register(PhoneRegister(NUMBER, PhoneMode.VOICE, sample_rate=8000))
    await stream.send(PhoneAnswer(CALL_ID))
    await stream.send(AudioFrame(PCM))
    await stream.send(AudioFrame(PCM))
    await stream.send(Dtmf("42#"))
    await stream.send(PhoneSay("ignored in voice mode, delivered all the same"))
    await stream.send(PhoneHangUp())
    await stream.close()

    assert servicer.uplink_ended.is_set()
    assert servicer.received == [
        PhoneRegister(NUMBER, PhoneMode.VOICE, sample_rate=8000),
        PhoneAnswer(CALL_ID),
        AudioFrame(PCM, seq=1, timestamp_ms=20, sample_rate=8000),
        AudioFrame(PCM, seq=2, timestamp_ms=40, sample_rate=8000),
        Dtmf("42#"),
        PhoneSay("ignored in voice mode, delivered all the same"),
        PhoneHangUp("caller_hangup"),
    ]


async def test_closing_the_phone_lets_the_dialer_end_the_stream_and_refuses_further_sends(
    client: PhoneClient,
) -> None:
    stream = await client.register(PhoneRegister(NUMBER, PhoneMode.TEXT))
    rest = asyncio.create_task(first_events(stream, 10))
    await stream.close()
    await stream.close()  # idempotent

    events = await rest
    assert events[-1] == PhoneCallEnded("unregistered")  # the stream ended, after the script
    assert len(events) == 4
    with pytest.raises(Unavailable):
        await stream.send(PhoneSay("hello?"))


async def test_a_taken_number_fails_registration_with_the_domain_error(
    client: PhoneClient,
) -> None:
    with pytest.raises(AlreadyExists, match="taken"):
        await client.register(PhoneRegister(TAKEN, PhoneMode.VOICE, sample_rate=16000))


async def test_a_stream_that_ends_before_registering_is_unavailable(client: PhoneClient) -> None:
    with pytest.raises(Unavailable, match="before registering"):
        await client.register(PhoneRegister(SILENT, PhoneMode.TEXT))


async def test_without_a_dialer_registration_fails_as_unavailable() -> None:
    with_no_dialer = PhoneClient("127.0.0.1:1")
    try:
        with pytest.raises(Unavailable):
            await with_no_dialer.register(PhoneRegister(NUMBER, PhoneMode.TEXT))
    finally:
        await with_no_dialer.close()
