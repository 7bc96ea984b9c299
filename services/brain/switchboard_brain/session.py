"""One call's conversation inside the brain: events in, agent events out, store in between.

Order of work for a caller turn, so a restart at any point loses nothing:

1. the policy decides; each claim update it makes is durable before it goes on,
   and the first one carries the caller's message in the same transaction
   (:mod:`~switchboard_brain.caller_message`);
2. the sentences stream as the policy yields them: the first leaves at once (a
   caller message no claim update carried is appended meanwhile, in the background);
3. once the caller's message is stored, the agent's message with the policy's new
   state in one write;
4. then the turn's actions and ``turn_done``.

A brain that dies before 3 gets the turn again from the dialer (it has no
``turn_done``): the claim updates already made are stored, the caller's message
is stored then if it was not yet, the policy state is the one before the turn, so
the same answer is decided again and the dialer drops the sentences it already
delivered.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard import telemetry
from switchboard.clock import Clock
from switchboard.converse import (
    AgentSendDtmf,
    AgentSentence,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    CallTimeUp,
    CancelAgentTurn,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    Dtmf,
    EndCallRequest,
    ExpectAnswer,
    PlayoutReport,
    SilenceTimeout,
    SmsRequest,
    SpeechSettings,
    UserTurn,
)
from switchboard.domain import (
    Call,
    Message,
    MessageAction,
    Persona,
    Reminder,
    ToolCall,
)
from switchboard.errors import SwitchboardError
from switchboard.features import FeatureFlags
from switchboard.phones import region_of, timezone_for_number
from switchboard_brain.caller_message import CallerMessage
from switchboard_brain.policy.base import (
    Action,
    CallerSaid,
    CallerSilent,
    ChangeSpeech,
    ConversationPolicy,
    DocumentSearch,
    EndCall,
    Greet,
    KeysPressed,
    PolicyEvent,
    PressKeys,
    Say,
    SendSms,
    TimeUp,
    Transfer,
    TurnContext,
    TurnEnd,
)
from switchboard_brain.policy.phrases import split_sentences
from switchboard_brain.store import CallStore
from switchboard_brain.turn_task import Emit, Fail, TurnTask

log = logging.getLogger(__name__)

CANCEL_WAIT_SEC = 2.0


def new_turn_id(kind: str) -> str:
    """A turn id for a turn the brain starts itself (greeting, silence, touch tones)."""
    return f"{kind}-{uuid.uuid4().hex[:16]}"


def callee_timezone(call: Call) -> ZoneInfo:
    """``initiate.timezone``, else the zone of the callee's number, else UTC."""
    name = call.initiate.timezone or timezone_for_number(call.initiate.phone_number)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def actions_to_tool_calls(turn_id: str, actions: list[Action]) -> list[ToolCall]:
    """Actions kept on the agent message, so a resent turn replays them too."""
    calls = []
    for action in actions:
        if isinstance(action, Transfer):
            args = {"target": action.target}
            calls.append(
                ToolCall(
                    tool_id=f"{turn_id}-transfer", name="transfer", arguments_json=json.dumps(args)
                )
            )
        else:
            args = {"reason": action.reason}
            calls.append(
                ToolCall(
                    tool_id=f"{turn_id}-end_call", name="end_call", arguments_json=json.dumps(args)
                )
            )
    return calls


def actions_from_tool_calls(tool_calls: list[ToolCall]) -> list[Action]:
    actions: list[Action] = []
    for call in tool_calls:
        if not call.tool_id.endswith(f"-{call.name}"):
            continue  # a model's own tool call (kept for its history), not a turn action
        args = json.loads(call.arguments_json or "{}")
        if call.name == "transfer":
            actions.append(Transfer(str(args.get("target", ""))))
        elif call.name == "end_call":
            actions.append(EndCall(str(args.get("reason", ""))))
    return actions


async def _events(
    events: list[ConverseResponse],
) -> AsyncGenerator[ConverseResponse, None]:
    for event in events:
        yield event


class ConversationSession:
    """Holds the call as stored and runs the policy for each event of its stream."""

    def __init__(
        self,
        call: Call,
        policy: ConversationPolicy,
        store: CallStore,
        clock: Clock,
        flags: FeatureFlags,
        search: DocumentSearch | None = None,
    ) -> None:
        self.call = call
        self._search = search
        self._policy = policy
        self._store = store
        self._clock = clock
        self._flags = flags
        self._timezone = callee_timezone(call)
        self._turns: TurnTask | None = None
        # What the running turn's tools made durable (reported if the turn is cancelled).
        self._committed: list[str] = []
        self._region = region_of(call.initiate.phone_number)
        self.sms_delivers = False  # set by the servicer from dialer.sms
        self.sends_dtmf = False  # set by the servicer from the stream's start
        self.languages: tuple[str, ...] = ()  # set by the servicer from speech.languages

    @classmethod
    async def open(
        cls,
        store: CallStore,
        call_id: str,
        policy: ConversationPolicy,
        clock: Clock,
        flags: FeatureFlags,
        search: DocumentSearch | None = None,
    ) -> ConversationSession:
        """Loads the call (``NotFound`` when the store has none with that id)."""
        return cls(await store.get_call(call_id), policy, store, clock, flags, search)

    async def start(self, event: ConversationStart) -> AsyncIterator[ConverseResponse]:
        """A greeting on a fresh stream; nothing after a reconnect (the dialer resends)."""
        planned = self._plan(event)
        if planned is not None:
            async for out in planned[1]:
                yield out

    async def handle(self, event: ConverseRequest) -> AsyncIterator[ConverseResponse]:
        """The agent events answering one inbound event, each as soon as it is ready,
        the turn run to its end (a live stream uses :meth:`dispatch` instead)."""
        if isinstance(event, PlayoutReport):
            await self._heard(event)
            return
        planned = self._plan(event)
        if planned is not None:
            async for out in planned[1]:
                yield out

    def attach(self, emit: Emit, fail: Fail) -> None:
        """Connects the session to a live stream: turns run as this session's task,
        their events go to ``emit`` and a failure of a turn to ``fail``."""
        self._turns = TurnTask(self.call.call_id, emit, fail)

    async def dispatch(self, event: ConverseRequest) -> None:
        """Handles one event of a live stream without waiting for the turn it starts:
        a cancel, a newer caller turn or the hang-up stops the running turn first."""
        turns = self._turns
        if turns is None:
            raise RuntimeError("attach the session to a stream first")
        match event:
            case CancelAgentTurn(turn_id=turn_id):
                await turns.cancel("barge_in", turn_id)
                return
            case CallerHangup():
                await turns.cancel("hangup")
                return
            case PlayoutReport():
                await self._heard(event)
                return
        # The running turn stops before the next one is planned: a plan made while it
        # still wrote would miss what it committed (a resent turn id decided twice).
        await turns.supersede(getattr(event, "turn_id", ""))
        planned = self._plan(event)
        if planned is not None:
            await turns.start(*planned)

    async def wait(self) -> None:
        """Until the running turn, if any, is done."""
        if self._turns is not None:
            await self._turns.wait()

    async def close(self) -> None:
        """The stream ended: stops the running turn, if any."""
        if self._turns is not None:
            await self._turns.cancel("stream_closed")

    def _plan(
        self, event: ConverseRequest
    ) -> tuple[str, AsyncGenerator[ConverseResponse, None]] | None:
        """The turn answering ``event`` (its id and its events, not started yet);
        None for an event that starts no turn."""
        match event:
            case ConversationStart(reconnect=reconnect):
                if reconnect:
                    return None
                resumed = any(
                    m.persona is Persona.HUMAN and m.action is MessageAction.TALK
                    for m in self.call.messages
                )
                turn_id = new_turn_id("greeting")
                return turn_id, self._turn(turn_id, Greet(resumed))
            case UserTurn(turn_id=turn_id, text=text, lang=lang, keypad=keypad):
                existing = self._agent_message(turn_id)
                if existing is not None:
                    log.info(
                        "turn resent, replaying the stored answer", extra=self._fields(turn_id)
                    )
                    return turn_id, _events(self._replay(existing))
                if keypad:
                    human = self._human(turn_id, text, MessageAction.DTMF)
                    return turn_id, self._turn(turn_id, KeysPressed(text), human)
                human = self._human(turn_id, text, MessageAction.TALK, lang)
                return turn_id, self._turn(turn_id, CallerSaid(text), human)
            case Dtmf(digits=digits):
                turn_id = new_turn_id("dtmf")
                human = self._human(turn_id, digits, MessageAction.DTMF)
                return turn_id, self._turn(turn_id, KeysPressed(digits), human)
            case SilenceTimeout(count=count):
                turn_id = new_turn_id("silence")
                return turn_id, self._turn(turn_id, CallerSilent(count))
            case CallTimeUp(reason=reason):
                turn_id = new_turn_id("time-up")
                return turn_id, self._turn(turn_id, TimeUp(reason or "max_duration"))
            case CallerHangup() | CancelAgentTurn() | PlayoutReport():
                return None
        raise TypeError(f"unknown event {type(event).__name__}")

    # -- turns --------------------------------------------------------------------------

    async def _turn(
        self, turn_id: str, event: PolicyEvent, human: Message | None = None
    ) -> AsyncGenerator[ConverseResponse, None]:
        """:meth:`_decide`, in a ``brain.turn`` span (not current: it would have to stay
        attached across the consumer's awaits)."""
        span = telemetry.start_span("brain.turn", {"turn.id": turn_id})
        outcome = "cancelled"
        try:
            async with aclosing(self._decide(turn_id, event, human)) as responses:
                async for response in responses:
                    yield response
            outcome = "done"
        finally:
            telemetry.set_attributes(span, {"turn.outcome": outcome})
            span.end()

    async def _decide(
        self, turn_id: str, event: PolicyEvent, human: Message | None = None
    ) -> AsyncGenerator[ConverseResponse, None]:
        """Streams the policy's parts as they come; the caller's message is stored with the
        first claim update, else in the background from the first sentence on, and
        always before the agent's message. Text messages, key presses, transfer and
        end_call leave only once the turn is complete: a cancelled turn sends none."""
        started = time.perf_counter()
        self._committed = []
        caller = CallerMessage(self._store, self.call.call_id, human, self._remember)
        ctx = self._context(caller)
        parts = self._policy.stream(ctx, event)
        spoken: list[str] = []
        requests: list[SmsRequest | AgentSendDtmf] = []
        filler_only = True
        end = TurnEnd()
        first_ms: float | None = None
        cancelled = False
        try:
            async for part in parts:
                match part:
                    case Say(text=text, filler=filler):
                        if not filler:
                            filler_only = False
                            caller.send()
                        if first_ms is None:
                            first_ms = round((time.perf_counter() - started) * 1000, 3)
                        # Only spoken sentences count: the dialer drops a resent index it
                        # already played, and a replay numbers the stored sentences from 0.
                        yield AgentSentence(turn_id, len(spoken), text, filler)
                        if not filler:
                            spoken.append(text)
                    case SendSms(to=to, text=text):
                        requests.append(SmsRequest(to, text, turn_id))
                    case PressKeys(digits=digits):
                        requests.append(AgentSendDtmf(turn_id, digits))
                    case ChangeSpeech(lang=lang, prosody_rate=rate):
                        yield SpeechSettings(lang, rate)
                    case TurnEnd():
                        end = part
            await caller.stored()
            log.info(
                "agent turn decided",
                extra={
                    **self._fields(turn_id),
                    "first_sentence_ms": first_ms,
                    "decide_ms": round((time.perf_counter() - started) * 1000, 3),
                    "event": type(event).__name__,
                },
            )
            if not filler_only or end.tool_calls or end.actions:
                agent = Message(
                    persona=Persona.ASSISTANT,
                    action=MessageAction.TALK,
                    content=" ".join(spoken),
                    lang=self.call.current_lang,
                    turn_id=turn_id,
                    tool_calls=[*end.tool_calls, *actions_to_tool_calls(turn_id, end.actions)],
                )
                await self._append([agent], end.policy_state)
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            # Closing the policy's stream closes the model request and cancels its tools.
            await parts.aclose()
            if cancelled:  # a cancelled turn still keeps the caller's words
                await caller.keep(CANCEL_WAIT_SEC)
                await self._cut_short(turn_id, spoken)
                await self._reload()
            else:
                await caller.drop(CANCEL_WAIT_SEC)
        if not filler_only:  # "are you still there?" leaves the last question in force
            for out in self._expectation(ctx, turn_id):
                yield out
        for request in requests:
            yield request
        for out in self._closing(turn_id, end.actions):
            yield out

    async def _cut_short(self, turn_id: str, spoken: list[str]) -> None:
        """A cancelled turn: keeps what was already sent of it (a playout report may cut
        it further) and reports what its tools already made durable; its actions and
        the policy's new state are dropped."""
        log.info(
            "agent turn cut short",
            extra={
                **self._fields(turn_id),
                "sentences_sent": len(spoken),
                "committed": list(self._committed),
            },
        )
        if not spoken:
            return
        cut = Message(
            persona=Persona.ASSISTANT,
            action=MessageAction.TALK,
            content=" ".join(spoken),
            lang=self.call.current_lang,
            turn_id=turn_id,
            interrupted=True,
        )
        try:
            await self._append([cut])
        except SwitchboardError as exc:
            log.warning(
                "cut turn not stored", extra={**self._fields(turn_id), "error": exc.message}
            )

    async def _reload(self) -> None:
        """After a cancelled turn, the claim, policy state and transcript as the store
        committed them: a write cancelled in flight (a claim update, the agent's message
        with the policy's new state) may have committed or not, and the next turn must
        decide on what is stored, never on what this turn only meant to store."""
        try:
            stored = await asyncio.wait_for(
                self._store.get_call(self.call.call_id), CANCEL_WAIT_SEC
            )
        except (SwitchboardError, TimeoutError) as exc:
            reason = exc.message if isinstance(exc, SwitchboardError) else "timeout"
            log.warning("call not reloaded", extra={**self._fields(""), "error": reason})
            return
        self.call.claim = stored.claim
        self.call.policy_state = stored.policy_state
        self.call.messages = stored.messages
        self.call.reminders = stored.reminders

    def _context(self, caller: CallerMessage | None = None) -> TurnContext:
        """The policy's view of the call for one turn; its claim updates carry ``caller``'s
        words (a turn's own, even if a newer turn starts while one is in flight)."""
        words = caller or CallerMessage(self._store, self.call.call_id, None, self._remember)
        return TurnContext(
            call=self.call,
            now=self._clock.now().astimezone(self._timezone),
            timezone=self._timezone,
            region=self._region,
            features=self._flags.current,
            update_claim=functools.partial(self._update_claim, words),
            search_documents=self._search,
            save_reminder=self._save_reminder,
            set_language=self._set_language,
            sms_delivers=self.sms_delivers,
            sends_dtmf=self.sends_dtmf,
            languages=self.languages,
        )

    async def _update_claim(self, caller: CallerMessage, field: str, value: str) -> str:
        words = caller.take()
        try:
            self.call.claim = await self._store.update_claim(
                self.call.call_id, {field: value}, words
            )
        except BaseException:
            caller.give_back(words)
            raise
        caller.carried(words)
        self._committed.append(f"claim:{field}")
        log.info("claim updated", extra={**self._fields(""), "field": field, "pii_value": value})
        return self.call.claim.get(field, value)

    async def _save_reminder(self, reminder: Reminder) -> Reminder:
        stored = await self._store.upsert_reminder(self.call.call_id, reminder)
        self._committed.append("reminder")
        self.call.reminders = [r for r in self.call.reminders if r.title != stored.title]
        self.call.reminders.append(stored)
        return stored

    async def _set_language(self, lang: str) -> None:
        # The language alone: the call's state is the dialer's to write, and a switch
        # racing a hang-up must not bring the ended call back.
        await self._store.set_call_language(self.call.call_id, lang)
        self.call.lang = lang

    async def _heard(self, report: PlayoutReport) -> None:
        spoken = self._agent_message(report.turn_id)
        if spoken is None:
            return  # a filler, or a turn this call never stored: nothing to correct
        cut = Message(
            persona=Persona.ASSISTANT,
            action=spoken.action,
            content=report.heard_text,
            lang=spoken.lang,
            turn_id=report.turn_id,
            interrupted=report.interrupted or report.heard_text != spoken.content,
        )
        await self._append([cut])

    # -- events and messages --------------------------------------------------------------

    @staticmethod
    def _closing(turn_id: str, actions: list[Action]) -> list[ConverseResponse]:
        """The turn's actions (run once its sentences are played), then turn_done,
        so a reader knows at turn_done everything the turn asked for."""
        events: list[ConverseResponse] = [
            AgentTransfer(turn_id, action.target)
            if isinstance(action, Transfer)
            else EndCallRequest(turn_id, action.reason)
            for action in actions
        ]
        events.append(AgentTurnDone(turn_id))
        return events

    def _replay(self, message: Message) -> list[ConverseResponse]:
        sentences = split_sentences(message.content)
        events: list[ConverseResponse] = [
            AgentSentence(message.turn_id, index, text, False)
            for index, text in enumerate(sentences)
        ]
        events += self._expectation(self._context(), message.turn_id)
        return events + self._closing(message.turn_id, actions_from_tool_calls(message.tool_calls))

    def _expectation(self, ctx: TurnContext, turn_id: str) -> list[ConverseResponse]:
        """What the caller's answer to the turn should be, if the policy knows (the
        speech service may then end a complete answer before the full silence window)."""
        expected = self._policy.expected_answer(ctx, self.call.policy_state)
        return [ExpectAnswer(turn_id, expected)] if expected is not None else []

    def _agent_message(self, turn_id: str) -> Message | None:
        return next(
            (
                m
                for m in self.call.messages
                if m.turn_id == turn_id and m.persona is Persona.ASSISTANT
            ),
            None,
        )

    def _human(self, turn_id: str, text: str, action: MessageAction, lang: str = "") -> Message:
        return Message(
            persona=Persona.HUMAN,
            action=action,
            content=text,
            lang=lang or self.call.current_lang,
            turn_id=turn_id,
        )

    async def _append(self, messages: list[Message], policy_state: str | None = None) -> None:
        stored = await self._store.append_messages(self.call.call_id, messages, policy_state)
        for message in stored:
            self._remember(message)
        if policy_state is not None:
            self.call.policy_state = policy_state

    def _remember(self, message: Message) -> None:
        for i, known in enumerate(self.call.messages):
            if message.turn_id and (known.turn_id, known.persona) == (
                message.turn_id,
                message.persona,
            ):
                self.call.messages[i] = message
                return
        self.call.messages.append(message)

    def _fields(self, turn_id: str) -> dict[str, str]:
        return {"call_id": self.call.call_id, "turn_id": turn_id, "policy": self._policy.name}
