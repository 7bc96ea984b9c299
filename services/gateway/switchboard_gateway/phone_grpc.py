"""The production :class:`~switchboard_gateway.phone_link.PhoneExchange`: lib's
:class:`~switchboard.phone_client.PhoneClient` for the line (a voice phone at the
softphone's rate), the store's ``WatchCall`` for the transcript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.channels import open_channel
from switchboard.config import ServiceAddresses
from switchboard.grpc_edge import domain_error
from switchboard.phone import PhoneMode, PhoneRegister
from switchboard.phone_client import UPLINK_BUFFER, GrpcPhoneStream, PhoneClient, queued_uplink
from switchboard.store_client import StoreClient
from switchboard.v1 import dialer_pb2, dialer_pb2_grpc
from switchboard_gateway.phone_link import SAMPLE_RATE, TranscriptLine

__all__ = ["UPLINK_BUFFER", "GrpcPhoneExchange", "GrpcPhoneStream", "transcript_line"]

# Where the Phone client lived before lib had it; carrier bridges built on it import these.
_drain = queued_uplink

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


class GrpcPhoneExchange:
    """Virtual phones on the dialer, carriers' webhooks for it, transcripts from the store."""

    def __init__(self, services: ServiceAddresses) -> None:
        self._phones = PhoneClient(services.dialer)
        self._store = StoreClient(services.store)
        self._channel = open_channel(services.dialer)
        # Generated stubs have no annotations for the constructor.
        self._dialer = dialer_pb2_grpc.DialerStub(self._channel)  # type: ignore[no-untyped-call]

    async def register(self, number: str, sample_rate: int = SAMPLE_RATE) -> GrpcPhoneStream:
        """A voice phone, at the softphone's rate unless told otherwise."""
        return await self._phones.register(PhoneRegister(number, PhoneMode.VOICE, sample_rate))

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
        await self._phones.close()
        await self._channel.close()
        await self._store.close()
