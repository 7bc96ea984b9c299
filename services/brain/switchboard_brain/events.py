"""The Converse stream in domain terms: what the dialer sends, what the brain answers.

The servicer converts these to and from the wire in :mod:`switchboard_brain.wire`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConversationStart:
    call_id: str
    reconnect: bool = False


@dataclass(frozen=True)
class UserTurn:
    turn_id: str
    text: str


@dataclass(frozen=True)
class PlayoutReport:
    """What the caller actually heard of an agent turn, after a barge-in."""

    turn_id: str
    heard_text: str
    interrupted: bool = True


@dataclass(frozen=True)
class DtmfPressed:
    digits: str


@dataclass(frozen=True)
class SilenceTimeout:
    count: int


@dataclass(frozen=True)
class CallerHangup:
    reason: str = ""


InboundEvent = (
    ConversationStart | UserTurn | PlayoutReport | DtmfPressed | SilenceTimeout | CallerHangup
)


@dataclass(frozen=True)
class AgentSentence:
    turn_id: str
    index: int
    text: str
    filler: bool = False


@dataclass(frozen=True)
class AgentTurnDone:
    turn_id: str


@dataclass(frozen=True)
class AgentTransfer:
    turn_id: str
    target: str


@dataclass(frozen=True)
class AgentEndCall:
    turn_id: str
    reason: str


@dataclass(frozen=True)
class AgentSms:
    """Send a text message now (the dialer's SMS provider sends it)."""

    to: str
    text: str


@dataclass(frozen=True)
class AgentSpeechSettings:
    """From now on, speak in ``lang`` at ``prosody_rate``."""

    lang: str
    prosody_rate: float


OutboundEvent = (
    AgentSentence | AgentTurnDone | AgentTransfer | AgentEndCall | AgentSms | AgentSpeechSettings
)
