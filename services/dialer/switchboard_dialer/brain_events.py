"""What the dialer and the brain say to each other on ``Brain.Converse``, as domain types."""

from __future__ import annotations

from dataclasses import dataclass

# Requests: dialer → brain.


@dataclass(frozen=True)
class Start:
    """Opens (``reconnect=False``) or re-opens a live call's conversation."""

    call_id: str
    reconnect: bool = False


@dataclass(frozen=True)
class UserTurn:
    """One complete caller turn; the turn id makes a resend harmless."""

    turn_id: str
    text: str
    confidence: float = 1.0
    lang: str = ""


@dataclass(frozen=True)
class Heard:
    """What the caller actually heard of an agent turn (after a barge-in)."""

    turn_id: str
    heard_text: str
    interrupted: bool = True


@dataclass(frozen=True)
class DtmfInput:
    digits: str


@dataclass(frozen=True)
class Silence:
    """The caller said nothing for the silence timeout; ``count`` in a row."""

    count: int


@dataclass(frozen=True)
class Hangup:
    """The caller hung up (or the line dropped)."""

    reason: str


BrainRequest = Start | UserTurn | Heard | DtmfInput | Silence | Hangup

# Events: brain → dialer.


@dataclass(frozen=True)
class Sentence:
    """One sentence to say; ``index`` counts the sentences of the turn from 0."""

    turn_id: str
    index: int
    text: str
    filler: bool = False


@dataclass(frozen=True)
class TurnDone:
    turn_id: str


@dataclass(frozen=True)
class TransferRequest:
    """Hand the caller to a human at ``target`` (E.164; empty: the request's agent number)."""

    turn_id: str
    target: str


@dataclass(frozen=True)
class EndCall:
    """Hang up once the turn ``turn_id`` has been delivered."""

    turn_id: str
    reason: str


@dataclass(frozen=True)
class SmsToSend:
    to: str
    text: str


@dataclass(frozen=True)
class SpeechSettingsChange:
    lang: str
    prosody_rate: float


BrainEvent = Sentence | TurnDone | TransferRequest | EndCall | SmsToSend | SpeechSettingsChange
