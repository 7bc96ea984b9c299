"""The virtual phone protocol of ``Dialer.Phone``, as domain types (simulator, softphone)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhoneMode(StrEnum):
    TEXT = "text"
    VOICE = "voice"


# Uplink: phone → dialer.


@dataclass(frozen=True)
class PhoneRegistration:
    number: str
    mode: PhoneMode
    sample_rate: int = 0
    auto_answer: bool = False
    speed: float = 1.0  # voice: playout pace relative to real time (tests ask for more)


@dataclass(frozen=True)
class PhoneAnswer:
    call_id: str


@dataclass(frozen=True)
class PhoneSay:
    text: str


@dataclass(frozen=True, slots=True)
class PhoneAudio:
    """20 ms of the caller's voice (PCM16 LE mono at the phone's rate)."""

    pcm: bytes = b""


@dataclass(frozen=True)
class PhoneDtmf:
    digits: str


@dataclass(frozen=True)
class PhoneHangUp:
    reason: str


@dataclass(frozen=True)
class PhoneDial:
    to_number: str


PhoneUplinkEvent = (
    PhoneRegistration | PhoneAnswer | PhoneSay | PhoneAudio | PhoneDtmf | PhoneHangUp | PhoneDial
)

# Downlink: dialer → phone.


@dataclass(frozen=True)
class Registered:
    number: str


@dataclass(frozen=True)
class Ringing:
    call_id: str
    from_number: str


@dataclass(frozen=True)
class Connected:
    call_id: str


@dataclass(frozen=True)
class BotSaid:
    turn_id: str
    text: str


@dataclass(frozen=True)
class BotTurnDone:
    turn_id: str


@dataclass(frozen=True)
class Ended:
    reason: str


@dataclass(frozen=True)
class Transferred:
    target: str


@dataclass(frozen=True, slots=True)
class BotFrame:
    """20 ms of the bot's voice, sent on its playout deadline."""

    call_id: str
    seq: int
    sample_rate: int
    pcm: bytes


@dataclass(frozen=True)
class ClearAudio:
    """Drop every bot frame not yet played (barge-in)."""


PhoneDownlinkEvent = (
    Registered
    | Ringing
    | Connected
    | BotSaid
    | BotTurnDone
    | Ended
    | Transferred
    | BotFrame
    | ClearAudio
)
