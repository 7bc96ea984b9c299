"""``Dialer.Phone`` in domain terms: a virtual phone (the simulator, the browser
softphone, the scenario runner) registers a number, then rings, answers, talks
and hangs up through one stream.

One dataclass per proto message of the stream, with the proto's name; the one
converter each way is :mod:`switchboard.phone_wire`. Audio in both directions is
:class:`switchboard.media.AudioFrame`, touch tones :class:`switchboard.media.Dtmf`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from switchboard.media import AudioFrame, Dtmf

__all__ = [  # AudioFrame and Dtmf are common.proto's, shared with other streams
    "AudioFrame",
    "BotDtmf",
    "BotSaid",
    "BotSentencePlayed",
    "BotTurnDone",
    "ClearAudio",
    "Dtmf",
    "PhoneAnswer",
    "PhoneAttach",
    "PhoneCall",
    "PhoneCallEnded",
    "PhoneConnected",
    "PhoneDownlink",
    "PhoneHangUp",
    "PhoneMode",
    "PhoneRegister",
    "PhoneRegistered",
    "PhoneRinging",
    "PhoneSay",
    "PhoneTransferred",
    "PhoneUplink",
]


class PhoneMode(StrEnum):
    TEXT = "text"  # lines of text instead of audio (simulator)
    VOICE = "voice"  # 20 ms PCM16 frames


# Uplink: phone → dialer.


@dataclass(frozen=True)
class PhoneRegister:
    """Registers ``number``; always first. ``speed``: voice playout pace relative to
    real time (tests and simulations ask for more)."""

    number: str
    mode: PhoneMode
    sample_rate: int = 0
    auto_answer: bool = False
    speed: float = 1.0


@dataclass(frozen=True)
class PhoneAnswer:
    call_id: str


@dataclass(frozen=True)
class PhoneSay:
    """Text mode: one complete caller turn."""

    text: str


@dataclass(frozen=True)
class PhoneHangUp:
    """Ends the live call, or declines a ringing one."""

    reason: str = "caller_hangup"


@dataclass(frozen=True)
class PhoneCall:
    """An inbound call from this phone to the bot's ``to_number``."""

    to_number: str


@dataclass(frozen=True)
class PhoneAttach:
    """Instead of :class:`PhoneRegister`, first: a carrier's media socket, reached at the
    gateway, for the call ``call_id`` the dialer placed or answered through ``provider``.
    ``token`` is the per-call secret of the socket's URL."""

    provider: str
    call_id: str
    token: str
    sample_rate: int


PhoneUplink = (
    PhoneRegister
    | PhoneAttach
    | PhoneAnswer
    | PhoneSay
    | AudioFrame
    | Dtmf
    | PhoneHangUp
    | PhoneCall
)

# Downlink: dialer → phone.


@dataclass(frozen=True)
class PhoneRegistered:
    number: str


@dataclass(frozen=True)
class PhoneRinging:
    call_id: str
    from_number: str


@dataclass(frozen=True)
class PhoneConnected:
    call_id: str


@dataclass(frozen=True)
class BotSaid:
    """Text mode only; a voice phone hears the bot as audio."""

    turn_id: str
    text: str


@dataclass(frozen=True)
class BotTurnDone:
    """The bot's turn was delivered (voice: played to its last frame)."""

    turn_id: str


@dataclass(frozen=True)
class BotSentencePlayed:
    """Voice only: the last frame of sentence ``index`` of the turn was played."""

    turn_id: str
    index: int


@dataclass(frozen=True)
class BotDtmf:
    """The bot pressed ``digits`` on the line (a menu's keys)."""

    digits: str


@dataclass(frozen=True)
class ClearAudio:
    """Barge-in: drop every bot frame not yet played."""


@dataclass(frozen=True)
class PhoneCallEnded:
    reason: str


@dataclass(frozen=True)
class PhoneTransferred:
    target: str


PhoneDownlink = (
    PhoneRegistered
    | PhoneRinging
    | PhoneConnected
    | BotSaid
    | BotTurnDone
    | BotSentencePlayed
    | BotDtmf
    | AudioFrame
    | ClearAudio
    | PhoneCallEnded
    | PhoneTransferred
)
