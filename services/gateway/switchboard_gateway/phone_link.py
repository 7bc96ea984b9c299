"""What the softphone bridge needs from the dialer and the store, in domain types.

A browser softphone is one virtual phone on ``Dialer.Phone`` (voice mode): the
bridge registers a number, then exchanges :data:`PhoneUp` and :data:`PhoneDown`
events with it (the Phone contract of :mod:`switchboard.phone`). The live
transcript comes from the store's call events, because in voice mode the phone
stream carries the bot only as audio (no text).

Production wires in :class:`~switchboard_gateway.phone_grpc.GrpcPhoneExchange`;
tests a fake implementing the same protocols.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from switchboard.media import AudioFrame, Dtmf
from switchboard.phone import PhoneAnswer, PhoneDownlink, PhoneHangUp

# The softphone's line: wideband, 20 ms frames of PCM16 LE mono.
SAMPLE_RATE = 16000
FRAME_BYTES = SAMPLE_RATE // 50 * 2

PhoneUp = PhoneAnswer | PhoneHangUp | AudioFrame | Dtmf
"""What the browser (or a carrier's media socket) sends the dialer: answer, hang up (or
decline), microphone frames (:data:`FRAME_BYTES` long; the stream numbers them), touch tones."""

PhoneDown = PhoneDownlink
"""What the dialer sends: ringing, connected, bot frames, clear audio, turn done, ended…"""


@dataclass(frozen=True)
class TranscriptLine:
    """One stored message of the call. A ``seq`` seen before replaces that line."""

    seq: int
    speaker: str  # "bot" | "caller"
    text: str
    interrupted: bool = False


class PhoneStream(Protocol):
    """One registered virtual phone; closing it unregisters the number."""

    @property
    def number(self) -> str:
        """The registered number, in E.164."""
        ...

    async def send(self, event: PhoneUp) -> None:
        """Raises ``Unavailable`` when the stream is gone."""
        ...

    def events(self) -> AsyncIterator[PhoneDown]:
        """What the dialer sends, until the stream ends; raises domain errors on failure."""
        ...

    async def close(self) -> None:
        """Idempotent."""
        ...


class PhoneExchange(Protocol):
    """Registers virtual phones and follows calls' transcripts."""

    async def register(self, number: str) -> PhoneStream:
        """A voice phone at :data:`SAMPLE_RATE`, registered once this returns.

        Raises ``InvalidArgument`` (bad number), ``AlreadyExists`` (the number is
        taken), ``FailedPrecondition`` (the dialer has no virtual phones) or
        ``Unavailable``.
        """
        ...

    def transcript(self, call_id: str) -> AsyncIterator[TranscriptLine]:
        """The call's spoken messages as they are stored, from the first."""
        ...

    async def close(self) -> None:
        """Releases connections; called once when the app shuts down."""
        ...
