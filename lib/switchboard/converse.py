"""``Brain.Converse`` in domain terms: what the dialer says to the brain, and back.

One dataclass per proto message of the stream, with the proto's name; the one
converter each way is :mod:`switchboard.converse_wire`. The dialer sends
:data:`ConverseRequest` events, the brain answers with :data:`ConverseResponse`
events. Every agent turn has a ``turn_id``: an answer carries the id of the user
turn it answers, a turn the agent starts itself (greeting, silence prompt) a fresh
one. A turn's actions (transfer, end_call, sms) follow its sentences and come
before its ``AgentTurnDone``; a cancelled turn's actions never come.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.media import Dtmf, ExpectedAnswer

__all__ = [  # Dtmf and ExpectedAnswer are common.proto's, shared with other streams
    "AgentSendDtmf",
    "AgentSentence",
    "AgentTransfer",
    "AgentTurnDone",
    "CallTimeUp",
    "CallerHangup",
    "CancelAgentTurn",
    "ConversationStart",
    "ConverseRequest",
    "ConverseResponse",
    "Dtmf",
    "EndCallRequest",
    "ExpectAnswer",
    "ExpectedAnswer",
    "PlayoutReport",
    "SilenceTimeout",
    "SmsRequest",
    "SpeechSettings",
    "UserTurn",
]

# Requests: dialer → brain.


@dataclass(frozen=True)
class ConversationStart:
    """Opens (``reconnect=False``) or re-opens a live call's conversation; always first."""

    call_id: str
    reconnect: bool = False
    sends_dtmf: bool = False  # the line can send touch tones (AgentSendDtmf)


@dataclass(frozen=True)
class UserTurn:
    """One complete caller turn; the turn id makes a resend harmless. A ``keypad`` turn
    was typed, not spoken: ``text`` holds the digits (collected until ``#``, a pause
    or the expected length)."""

    turn_id: str
    text: str
    confidence: float = 1.0
    lang: str = ""  # what the recogniser heard; empty: the call's current language
    keypad: bool = False


@dataclass(frozen=True)
class PlayoutReport:
    """What the caller actually heard of an agent turn (after a barge-in)."""

    turn_id: str
    heard_text: str
    interrupted: bool = True


@dataclass(frozen=True)
class SilenceTimeout:
    """The caller said nothing for the silence timeout; ``count`` times in a row."""

    count: int


@dataclass(frozen=True)
class CallerHangup:
    """The caller hung up (or the line dropped)."""

    reason: str = ""


@dataclass(frozen=True)
class CancelAgentTurn:
    """Stop the agent turn ``turn_id`` now: the caller barged in."""

    turn_id: str


@dataclass(frozen=True)
class CallTimeUp:
    """The call must end now: say goodbye and end it with ``reason`` (``max_duration``:
    the call reached its maximum duration; ``drained``: the dialer is shutting down)."""

    reason: str = "max_duration"


ConverseRequest = (
    ConversationStart
    | UserTurn
    | PlayoutReport
    | Dtmf
    | SilenceTimeout
    | CallerHangup
    | CancelAgentTurn
    | CallTimeUp
)

# Responses: brain → dialer.


@dataclass(frozen=True)
class AgentSentence:
    """One sentence to say; ``index`` counts the spoken sentences of the turn from 0.
    A ``filler`` ("one moment") is not part of the history."""

    turn_id: str
    index: int
    text: str
    filler: bool = False


@dataclass(frozen=True)
class AgentTurnDone:
    """Every sentence and action of the turn was sent."""

    turn_id: str


@dataclass(frozen=True)
class AgentTransfer:
    """Hand the caller to a human at ``target`` (E.164; empty: the request's agent number)
    once the turn was delivered."""

    turn_id: str
    target: str


@dataclass(frozen=True)
class EndCallRequest:
    """Hang up once the turn ``turn_id`` was delivered."""

    turn_id: str
    reason: str


@dataclass(frozen=True)
class SmsRequest:
    """Send a text message to ``to`` (E.164), asked for by the agent turn ``turn_id``."""

    to: str
    text: str
    turn_id: str = ""


@dataclass(frozen=True)
class SpeechSettings:
    """From now on, speak in ``lang`` at ``prosody_rate``."""

    lang: str
    prosody_rate: float


@dataclass(frozen=True)
class ExpectAnswer:
    """The caller's answer to ``turn_id`` should be ``answer``; in force until the next one."""

    turn_id: str
    answer: ExpectedAnswer


@dataclass(frozen=True)
class AgentSendDtmf:
    """Press ``digits`` (0-9, *, #, A-D) on the line once the turn ``turn_id`` was
    delivered: the bot navigating a menu."""

    turn_id: str
    digits: str


ConverseResponse = (
    AgentSentence
    | AgentTurnDone
    | AgentTransfer
    | EndCallRequest
    | SmsRequest
    | SpeechSettings
    | ExpectAnswer
    | AgentSendDtmf
)
