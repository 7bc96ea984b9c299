"""One call's conversation inside the brain: events in, agent events out, store in between.

Order of work for a caller turn, so a restart at any point loses nothing:

1. store the caller's message while the policy decides (its claim updates are
   durable before it returns);
2. once both are done, stream the sentences: the first leaves at once;
3. store the agent's message with the policy's new state in one write;
4. then the turn's actions and ``turn_done``.

A brain that dies between 2 and 3 gets the turn again from the dialer (it has
no ``turn_done``): the caller's message is already stored, the policy state is
the one before the turn, so the same answer is decided again and the dialer
drops the sentences it already delivered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.clock import Clock
from switchboard.domain import (
    Call,
    Message,
    MessageAction,
    Persona,
    Reminder,
    ToolCall,
)
from switchboard.features import FeatureFlags
from switchboard.phones import region_of, timezone_for_number
from switchboard_brain.events import (
    AgentEndCall,
    AgentSentence,
    AgentSms,
    AgentSpeechSettings,
    AgentTransfer,
    AgentTurnDone,
    CallerHangup,
    ConversationStart,
    DtmfPressed,
    InboundEvent,
    OutboundEvent,
    PlayoutReport,
    SilenceTimeout,
    UserTurn,
)
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
    Say,
    SendSms,
    Transfer,
    TurnContext,
    TurnEnd,
)
from switchboard_brain.policy.phrases import split_sentences
from switchboard_brain.store import CallStore

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
        self._region = region_of(call.initiate.phone_number)

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

    async def start(self, event: ConversationStart) -> AsyncIterator[OutboundEvent]:
        """A greeting on a fresh stream; nothing after a reconnect (the dialer resends)."""
        if event.reconnect:
            return
        resumed = any(
            m.persona is Persona.HUMAN and m.action is MessageAction.TALK
            for m in self.call.messages
        )
        async for out in self._turn(new_turn_id("greeting"), Greet(resumed)):
            yield out

    async def handle(self, event: InboundEvent) -> AsyncIterator[OutboundEvent]:
        """The agent events answering one inbound event, each as soon as it is ready."""
        match event:
            case UserTurn(turn_id=turn_id, text=text):
                existing = self._agent_message(turn_id)
                if existing is not None:
                    log.info(
                        "turn resent, replaying the stored answer", extra=self._fields(turn_id)
                    )
                    for out in self._replay(existing):
                        yield out
                    return
                human = self._human(turn_id, text, MessageAction.TALK)
                turn = self._turn(turn_id, CallerSaid(text), human)
            case PlayoutReport():
                await self._heard(event)
                return
            case DtmfPressed(digits=digits):
                turn_id = new_turn_id("dtmf")
                human = self._human(turn_id, digits, MessageAction.DTMF)
                turn = self._turn(turn_id, KeysPressed(digits), human)
            case SilenceTimeout(count=count):
                turn = self._turn(new_turn_id("silence"), CallerSilent(count))
            case CallerHangup() | ConversationStart():
                return
            case _:
                raise TypeError(f"unknown event {type(event).__name__}")
        async for out in turn:
            yield out

    # -- turns --------------------------------------------------------------------------

    async def _turn(
        self, turn_id: str, event: PolicyEvent, human: Message | None = None
    ) -> AsyncIterator[OutboundEvent]:
        """Streams the policy's parts; sentences leave once the caller's message is stored
        (fillers may leave before: they are never stored)."""
        started = time.perf_counter()
        caller_stored: asyncio.Task[None] | None = None
        if human is not None:
            caller_stored = asyncio.create_task(
                self._append([human]), name=f"brain-store-caller-{turn_id}"
            )
        parts = self._policy.stream(self._context(), event)
        spoken: list[str] = []
        filler_only = True
        end = TurnEnd()
        first_ms: float | None = None
        try:
            async for part in parts:
                match part:
                    case Say(text=text, filler=filler):
                        if not filler:
                            filler_only = False
                            if caller_stored is not None:
                                await caller_stored
                        if first_ms is None:
                            first_ms = round((time.perf_counter() - started) * 1000, 3)
                        # Only spoken sentences count: the dialer drops a resent index it
                        # already played, and a replay numbers the stored sentences from 0.
                        yield AgentSentence(turn_id, len(spoken), text, filler)
                        if not filler:
                            spoken.append(text)
                    case SendSms(to=to, text=text):
                        yield AgentSms(to, text)
                    case ChangeSpeech(lang=lang, prosody_rate=rate):
                        yield AgentSpeechSettings(lang, rate)
                    case TurnEnd():
                        end = part
            if caller_stored is not None:
                await caller_stored
        finally:
            await parts.aclose()
            if caller_stored is not None and not caller_stored.done():
                caller_stored.cancel()
                await asyncio.wait({caller_stored}, timeout=CANCEL_WAIT_SEC)
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
        for out in self._closing(turn_id, end.actions):
            yield out

    def _context(self) -> TurnContext:
        return TurnContext(
            call=self.call,
            now=self._clock.now().astimezone(self._timezone),
            timezone=self._timezone,
            region=self._region,
            features=self._flags.current,
            update_claim=self._update_claim,
            search_documents=self._search,
            save_reminder=self._save_reminder,
            set_language=self._set_language,
        )

    async def _update_claim(self, field: str, value: str) -> str:
        self.call.claim = await self._store.update_claim(self.call.call_id, {field: value})
        log.info("claim updated", extra={**self._fields(""), "field": field, "pii_value": value})
        return self.call.claim.get(field, value)

    async def _save_reminder(self, reminder: Reminder) -> Reminder:
        stored = await self._store.upsert_reminder(self.call.call_id, reminder)
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
    def _closing(turn_id: str, actions: list[Action]) -> list[OutboundEvent]:
        """The turn's actions (run once its sentences are played), then turn_done,
        so a reader knows at turn_done everything the turn asked for."""
        events: list[OutboundEvent] = [
            AgentTransfer(turn_id, action.target)
            if isinstance(action, Transfer)
            else AgentEndCall(turn_id, action.reason)
            for action in actions
        ]
        events.append(AgentTurnDone(turn_id))
        return events

    def _replay(self, message: Message) -> list[OutboundEvent]:
        sentences = split_sentences(message.content)
        events: list[OutboundEvent] = [
            AgentSentence(message.turn_id, index, text, False)
            for index, text in enumerate(sentences)
        ]
        return events + self._closing(message.turn_id, actions_from_tool_calls(message.tool_calls))

    def _agent_message(self, turn_id: str) -> Message | None:
        return next(
            (
                m
                for m in self.call.messages
                if m.turn_id == turn_id and m.persona is Persona.ASSISTANT
            ),
            None,
        )

    def _human(self, turn_id: str, text: str, action: MessageAction) -> Message:
        return Message(
            persona=Persona.HUMAN,
            action=action,
            content=text,
            lang=self.call.current_lang,
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
