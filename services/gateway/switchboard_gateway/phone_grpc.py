"""The production :class:`~switchboard_gateway.phone_link.PhoneExchange`: ``Dialer.Phone``
for the line, the store's ``WatchCall`` for the transcript. The only module of the
softphone that sees protobuf messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.channels import open_channel
from switchboard.config import ServiceAddresses
from switchboard.errors import Unavailable
from switchboard.grpc_edge import domain_error
from switchboard.media import FRAME_MS, AudioFrame
from switchboard.phone import PhoneMode, PhoneRegister, PhoneRegistered
from switchboard.phone_wire import downlink_from_pb, uplink_to_pb
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.phone_link import (
    SAMPLE_RATE,
    PhoneDown,
    PhoneUp,
    TranscriptLine,
)

log = logging.getLogger(__name__)

REGISTER_TIMEOUT_SEC = 5.0
# After the uplink is closed, how long the dialer gets to end the stream before it is cut.
CLOSE_GRACE_SEC = 1.0
# Uplink messages buffered towards the dialer (2 s of audio); the browser waits beyond that.
UPLINK_BUFFER = 100
# Carriers wait a few seconds for a webhook's answer; the dialer must answer sooner.
CARRIER_RPC_TIMEOUT_SEC = 5.0

_SPEAKERS = {domain.Persona.ASSISTANT: "bot", domain.Persona.HUMAN: "caller"}


def transcript_line(event: CallEvent) -> TranscriptLine | None:
    """A spoken message of the call; None for other events and for tool or system lines."""
    message = event.payload
    if not isinstance(message, domain.Message):
        return None
    speaker = _SPEAKERS.get(message.persona)
    if speaker is None or message.action is not domain.MessageAction.TALK or not message.content:
        return None
    return TranscriptLine(
        seq=message.seq, speaker=speaker, text=message.content, interrupted=message.interrupted
    )


class GrpcPhoneStream:
    """One ``Dialer.Phone`` stream; :meth:`close` half-closes it, then cancels it."""

    def __init__(
        self,
        number: str,
        call: Any,
        uplink: asyncio.Queue[dialer_pb2.PhoneUplink | None],
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        self._sample_rate = sample_rate
        self._number = number
        self._call = call
        self._uplink = uplink
        self._seq = 0
        self._closed = False

    @property
    def number(self) -> str:
        return self._number

    async def send(self, event: PhoneUp) -> None:
        if self._closed or self._call.done():
            raise Unavailable("the phone stream to the dialer has ended")
        if isinstance(event, AudioFrame):
            self._seq += 1
            event = AudioFrame(event.pcm, self._seq, self._seq * FRAME_MS, self._sample_rate)
        await self._uplink.put(uplink_to_pb(event))

    async def events(self) -> AsyncIterator[PhoneDown]:
        try:
            # read(), not iteration: registration already read the first message, and
            # grpc.aio refuses to mix the two styles on one call.
            while (msg := await self._call.read()) is not grpc.aio.EOF:
                event = downlink_from_pb(msg)
                if event is not None and not isinstance(event, PhoneRegistered):
                    yield event
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise domain_error(exc) from exc

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Half-close: the dialer unregisters the number and ends the stream itself.
        with contextlib.suppress(asyncio.QueueFull):
            self._uplink.put_nowait(None)
        try:
            async with asyncio.timeout(CLOSE_GRACE_SEC):
                await self._call.code()
        except TimeoutError:
            log.info("phone stream did not end in time; cancelling it")
        finally:
            self._call.cancel()


class GrpcPhoneExchange:
    """Virtual phones on the dialer and transcripts from the store."""

    def __init__(self, services: ServiceAddresses) -> None:
        self._channel = open_channel(services.dialer)
        # Generated stubs have no annotations for the constructor.
        self._dialer = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]
        self._store = StoreClient(services.store)

    async def register(self, number: str, sample_rate: int = SAMPLE_RATE) -> GrpcPhoneStream:
        uplink: asyncio.Queue[dialer_pb2.PhoneUplink | None] = asyncio.Queue(UPLINK_BUFFER)
        uplink.put_nowait(uplink_to_pb(PhoneRegister(number, PhoneMode.VOICE, sample_rate)))
        call = self._dialer.Phone(_drain(uplink))
        try:
            async with asyncio.timeout(REGISTER_TIMEOUT_SEC):
                first = await call.read()
        except TimeoutError as exc:
            call.cancel()
            raise Unavailable("the dialer did not confirm the registration in time") from exc
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        registered = None if first is grpc.aio.EOF else downlink_from_pb(first)
        if not isinstance(registered, PhoneRegistered):
            call.cancel()
            raise Unavailable("the dialer ended the phone stream before registering it")
        return GrpcPhoneStream(registered.number, call, uplink, sample_rate)

    async def answer_call(
        self, provider: str, from_number: str, to_number: str, provider_call_id: str
    ) -> str:
        """A carrier's inbound call, taken by the dialer; the call id it became."""
        try:
            call = await self._dialer.AnswerCall(
                dialer_pb2.AnswerCallRequest(
                    provider=provider,
                    from_number=from_number,
                    to_number=to_number,
                    provider_call_id=provider_call_id,
                ),
                timeout=CARRIER_RPC_TIMEOUT_SEC,
            )
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return str(call.call_id)

    async def carrier_status(
        self, provider: str, call_id: str, provider_call_id: str, status: str, answered_by: str
    ) -> bool:
        """A carrier's status callback for the dialer; whether it changed anything."""
        try:
            reply = await self._dialer.CarrierStatus(
                dialer_pb2.CarrierStatusRequest(
                    provider=provider,
                    call_id=call_id,
                    provider_call_id=provider_call_id,
                    status=status,
                    answered_by=answered_by,
                ),
                timeout=CARRIER_RPC_TIMEOUT_SEC,
            )
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
        return bool(reply.applied)

    async def transcript(self, call_id: str) -> AsyncIterator[TranscriptLine]:
        async for event in self._store.watch_call(call_id):
            line = transcript_line(event)
            if line is not None:
                yield line

    async def close(self) -> None:
        await self._channel.close()
        await self._store.close()


async def _drain(
    queue: asyncio.Queue[dialer_pb2.PhoneUplink | None],
) -> AsyncIterator[dialer_pb2.PhoneUplink]:
    while (item := await queue.get()) is not None:
        yield item
