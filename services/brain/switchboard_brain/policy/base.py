"""The seam every conversation policy plugs into.

A policy sees the call as stored (request, claim, transcript, its own opaque
``policy_state``) and one event, and answers with an :class:`AgentReply`: the
sentences to speak, the actions to take and its new state. A policy that produces
its answer gradually (a language model) overrides :meth:`ConversationPolicy.stream`
instead, yielding each sentence (:class:`Say`) as soon as it is complete, side
effects for the dialer (:class:`SendSms`, :class:`ChangeSpeech`) when they happen,
and a closing :class:`TurnEnd`. It writes claim values
through :attr:`TurnContext.update_claim`, which makes them durable in the store
before the reply is spoken; a value the store rejects raises
:class:`switchboard.errors.InvalidArgument`, which a policy treats as "not understood".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from switchboard.config import Features
from switchboard.domain import Call, ChunkHit, Reminder, ToolCall
from switchboard.media import ExpectedAnswer
from switchboard_brain import phrases

# The English wording (phrase files), for the tests and docs that quote it.
STILL_THERE = phrases.text("still_there", "en")
TIME_UP = phrases.text("time_up", "en")
# The dialer is shutting down (a rollout) and the call is still live at the end of
# its drain time; what the caller said is kept, so a new call resumes it.
DRAINED = phrases.text("drained", "en")
# The end reasons a time-up may carry, each with its goodbye's phrase.
TIME_UP_GOODBYES = {"max_duration": "time_up", "drained": "drained"}


@dataclass(frozen=True)
class Transfer:
    """Hand the caller to a human at ``target`` (E.164), after the sentences are spoken."""

    target: str


@dataclass(frozen=True)
class EndCall:
    """Hang up after the sentences are spoken."""

    reason: str


Action = Transfer | EndCall


@dataclass(frozen=True)
class Greet:
    """The call connected; ``resumed`` when the caller already talked in an earlier leg."""

    resumed: bool


@dataclass(frozen=True)
class CallerSaid:
    text: str


@dataclass(frozen=True)
class KeysPressed:
    """The caller typed ``digits`` on the keypad (one entry, without its closing ``#``)."""

    digits: str


@dataclass(frozen=True)
class CallerSilent:
    """The caller said nothing for ``phone_silence_timeout_sec``, ``count`` times in a row."""

    count: int


@dataclass(frozen=True)
class TimeUp:
    """The call must end now (``max_duration``, ``drained``): the last turn, which ends it."""

    reason: str = "max_duration"


PolicyEvent = Greet | CallerSaid | KeysPressed | CallerSilent | TimeUp


@dataclass
class AgentReply:
    """One agent turn: sentences in order, then actions. ``filler`` turns are not stored."""

    sentences: list[str]
    actions: list[Action] = field(default_factory=list)
    policy_state: str | None = None  # the new state as JSON; None keeps the stored one
    filler: bool = False


@dataclass(frozen=True)
class Say:
    """One complete sentence to speak now; a ``filler`` is not part of the history."""

    text: str
    filler: bool = False


@dataclass(frozen=True)
class SendSms:
    """Send a text message to ``to`` (E.164) now."""

    to: str
    text: str


@dataclass(frozen=True)
class PressKeys:
    """Press ``digits`` on the line once the turn was delivered (a menu's keys)."""

    digits: str


@dataclass(frozen=True)
class ChangeSpeech:
    """Speak from now on in ``lang`` at ``prosody_rate`` (0.75 .. 1.25)."""

    lang: str
    prosody_rate: float


@dataclass
class TurnEnd:
    """The last part of a streamed turn: actions, new state, tool calls to keep."""

    actions: list[Action] = field(default_factory=list)
    policy_state: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)


ReplyPart = Say | SendSms | PressKeys | ChangeSpeech | TurnEnd

ClaimWriter = Callable[[str, str], Awaitable[str]]
"""``await update_claim(field, value)`` → the value as stored (normalised)."""

DocumentSearch = Callable[[str], Awaitable[list[ChunkHit]]]
"""``await search_documents(query)`` → knowledge-base chunks, best first."""

ReminderWriter = Callable[[Reminder], Awaitable[Reminder]]
"""``await save_reminder(reminder)`` → the reminder as stored (upserted by title)."""

LanguageWriter = Callable[[str], Awaitable[None]]
"""``await set_language("fr-FR")``: the call's current language, stored."""


@dataclass(frozen=True)
class TurnContext:
    """Everything a policy may read or do during one turn."""

    call: Call
    now: datetime  # timezone-aware, in the callee's timezone
    timezone: ZoneInfo
    region: str | None  # ISO 3166 region of the callee's number
    features: Features
    update_claim: ClaimWriter
    search_documents: DocumentSearch | None = None  # None: no knowledge base configured
    save_reminder: ReminderWriter | None = None
    set_language: LanguageWriter | None = None
    # Whether an SMS leaves the building (dialer.sms is a carrier) or is only recorded (log).
    sms_delivers: bool = False
    # Whether the line can send touch tones (the dialer's telephony provider can).
    sends_dtmf: bool = False
    # The languages the speech providers serve (speech.languages); empty: any.
    languages: tuple[str, ...] = ()


class ConversationPolicy(ABC):
    """Decides what the agent says and does. Stateless between turns: the state lives in
    ``call.policy_state``, so any brain replica can continue any call."""

    name: ClassVar[str]

    async def respond(self, ctx: TurnContext, event: PolicyEvent) -> AgentReply:
        """Dispatches ``event``; subclasses implement :meth:`greet` and :meth:`answer`."""
        match event:
            case Greet(resumed=resumed):
                return await self.greet(ctx, resumed)
            case CallerSaid(text=text):
                return await self.answer(ctx, text)
            case KeysPressed(digits=digits):
                return await self.keys(ctx, digits)
            case CallerSilent(count=count):
                return await self.silence(ctx, count)
            case TimeUp(reason=reason):
                return self.time_up(ctx, reason)
        raise TypeError(f"unknown policy event {type(event).__name__}")

    async def stream(self, ctx: TurnContext, event: PolicyEvent) -> AsyncGenerator[ReplyPart, None]:
        """The turn as parts, in order, ending with one :class:`TurnEnd`. By default the
        whole :meth:`respond` reply at once; streaming policies override this."""
        reply = await self.respond(ctx, event)
        for sentence in reply.sentences:
            yield Say(sentence, reply.filler)
        yield TurnEnd(list(reply.actions), reply.policy_state)

    @abstractmethod
    async def greet(self, ctx: TurnContext, resumed: bool) -> AgentReply:
        """The first turn of a call leg (a welcome back when ``resumed``)."""

    @abstractmethod
    async def answer(self, ctx: TurnContext, text: str) -> AgentReply:
        """The reply to what the caller said."""

    @abstractmethod
    def goodbye(self, ctx: TurnContext) -> list[str]:
        """Closing sentences, spoken before the call ends."""

    def expected_answer(self, ctx: TurnContext, policy_state: str) -> ExpectedAnswer | None:
        """What the caller's next answer should be, once a turn left ``policy_state``
        (the speech service may end a complete answer early); None when this policy
        does not know, and then no expectation is sent."""
        return None

    async def keys(self, ctx: TurnContext, digits: str) -> AgentReply:
        """Touch tones; by default read as if the caller had said the digits."""
        return await self.answer(ctx, digits)

    def time_up(self, ctx: TurnContext, reason: str = "max_duration") -> AgentReply:
        """The goodbye when the call must end now, then the end of the call with ``reason``."""
        key = TIME_UP_GOODBYES.get(reason, "time_up")
        return AgentReply([phrases.get(key, ctx.call.current_lang)], [EndCall(reason)])

    async def silence(self, ctx: TurnContext, count: int) -> AgentReply:
        """ "Are you still there?" (a filler), then goodbye after ``recognition_retry_max``."""
        if count < ctx.features.recognition_retry_max:
            return AgentReply([phrases.get("still_there", ctx.call.current_lang)], filler=True)
        return AgentReply(self.goodbye(ctx), [EndCall("caller_silent")])
