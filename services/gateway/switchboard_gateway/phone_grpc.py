"""The production :class:`~switchboard_gateway.phone_link.PhoneExchange`: lib's
:class:`~switchboard.phone_client.PhoneClient` for the line (a voice phone at the
softphone's rate), the store's ``WatchCall`` for the transcript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.config import ServiceAddresses
from switchboard.phone import PhoneMode, PhoneRegister
from switchboard.phone_client import UPLINK_BUFFER, GrpcPhoneStream, PhoneClient, queued_uplink
from switchboard.store_client import StoreClient
from switchboard_gateway.phone_link import SAMPLE_RATE, TranscriptLine

__all__ = ["UPLINK_BUFFER", "GrpcPhoneExchange", "GrpcPhoneStream", "transcript_line"]

# Where the Phone client lived before lib had it; carrier bridges built on it import these.
_drain = queued_uplink

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
    """Virtual phones on the dialer, transcripts from the store."""

    def __init__(self, services: ServiceAddresses) -> None:
        self._phones = PhoneClient(services.dialer)
        self._store = StoreClient(services.store)

    async def register(self, number: str, sample_rate: int = SAMPLE_RATE) -> GrpcPhoneStream:
        """A voice phone, at the softphone's rate unless told otherwise."""
        return await self._phones.register(PhoneRegister(number, PhoneMode.VOICE, sample_rate))

    async def transcript(self, call_id: str) -> AsyncIterator[TranscriptLine]:
        async for event in self._store.watch_call(call_id):
            line = transcript_line(event)
            if line is not None:
                yield line

    async def close(self) -> None:
        await self._phones.close()
        await self._store.close()
