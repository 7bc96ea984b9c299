"""The ``llm`` policy: a tool-calling agent over any OpenAI-compatible endpoint.

Per caller turn: the system prompt (identity, task, claim with current values,
reminders, date in the callee's timezone, language), the newest history that fits
the token budget, the caller's words as a ``user`` message, and the tools. Text is
streamed and spoken sentence by sentence; tool calls run in parallel after a short
spoken confirmation, and their results go back to the model for up to
``tool_rounds`` rounds (the last one without tools).

Timing: no sentence after ``answer_soft_timeout_sec`` → a filler (not stored),
again for each model the chat model falls back to; the chat model
(``llm/fallback.py``) gives a model ``answer_hard_timeout_sec`` to begin its answer
before it asks the other one, and once the turn has spoken, no new sentence for
that long ends it. When every model failed (timeout, error, refusal, empty
answer), the deterministic ``form`` policy answers the turn. The caller never
hears an error loop or silence. Greetings and silence prompts are the form
policy's: instant, and spoken while the line is still ringing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel, ValidationError

from switchboard.clock import Sleep
from switchboard.config import LlmSettings
from switchboard.domain import ToolCall
from switchboard.tasks import cancel_and_wait
from switchboard_brain import phrases as phrase_book
from switchboard_brain.llm.base import (
    ChatMessage,
    ChatModel,
    ChatRequest,
    ContentFiltered,
    Finished,
    ModelError,
    ModelSwitched,
    ModelToolCall,
    TextDelta,
    ToolCallsReady,
)
from switchboard_brain.llm.sentences import SentenceSplitter
from switchboard_brain.llm.tokens import TokenCounter, default_counter
from switchboard_brain.policy import llm_tools, phrases
from switchboard_brain.policy.base import (
    Action,
    AgentReply,
    CallerSaid,
    ConversationPolicy,
    EndCall,
    KeysPressed,
    PolicyEvent,
    ReplyPart,
    Say,
    TurnContext,
    TurnEnd,
)
from switchboard_brain.policy.form import FormPolicy
from switchboard_brain.policy.form_state import FormState
from switchboard_brain.policy.llm_prompt import Budget, conversation

log = logging.getLogger(__name__)


FILLERS = ("filler", "filler_again")  # phrase names: the first wait, then the next ones
SORRY = "Sorry, could you say that again?"
CANCEL_WAIT_SEC = 2.0
_MAX_CONFIRMATIONS = 2


class LlmState(BaseModel):
    """The policy's state: the form's (it answers greetings and fallback turns) and the
    speech rate the caller asked for."""

    form: str = ""
    prosody_rate: float = 0.0  # 0: the request's rate

    @classmethod
    def load(cls, raw: str) -> LlmState:
        try:
            return cls.model_validate_json(raw) if raw else cls()
        except ValidationError:
            return cls()

    def dump(self) -> str:
        return self.model_dump_json(exclude_defaults=True)


@dataclass
class _Attempt:
    """What the turn's answer did; read by the code that chooses what happens next."""

    tool_calls: list[ToolCall] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    spoke: bool = False
    outcome: str = ""  # done | failed | empty | stalled
    error: str = ""


@dataclass(frozen=True)
class _Timer:
    kind: str  # soft | hard
    generation: int


@dataclass(frozen=True)
class _Switched:
    """The chat model moved on to its next model: the filler timer starts again."""


@dataclass(frozen=True)
class _Done:
    error: BaseException | None = None


class LlmPolicy(ConversationPolicy):
    """``chat`` (or ``slow_chat``, with ``slow_llm_for_chat``), then ``form``.

    In production both are fallback chat models over the fast and slow models, in
    the two orders.
    """

    name: ClassVar[str] = "llm"

    def __init__(
        self,
        settings: LlmSettings,
        chat: ChatModel,
        slow_chat: ChatModel,
        sleep: Sleep = asyncio.sleep,
        counter: TokenCounter | None = None,
    ) -> None:
        self._chat = chat
        self._slow_chat = slow_chat
        self._settings = settings
        self._sleep = sleep
        self._counter = counter or default_counter()
        self._form = FormPolicy()

    # -- the policy interface -------------------------------------------------------

    async def stream(self, ctx: TurnContext, event: PolicyEvent) -> AsyncGenerator[ReplyPart, None]:
        match event:
            case CallerSaid(text=text):
                words = text
            case KeysPressed(digits=digits):
                words = f"(keypad) {digits}"
            case _:
                async for part in super().stream(ctx, event):
                    yield part
                return
        async for part in self._converse(ctx, words, event):
            yield part

    async def greet(self, ctx: TurnContext, resumed: bool) -> AgentReply:
        state = LlmState.load(ctx.call.policy_state)
        reply = await self._form.greet(self._form_context(ctx, state), resumed)
        state.form = reply.policy_state or state.form
        return dataclasses.replace(reply, policy_state=state.dump())

    async def answer(self, ctx: TurnContext, text: str) -> AgentReply:
        """The streamed turn, gathered (the session uses :meth:`stream`)."""
        reply = AgentReply([])
        async for part in self.stream(ctx, CallerSaid(text)):
            if isinstance(part, Say) and not part.filler:
                reply.sentences.append(part.text)
            elif isinstance(part, TurnEnd):
                reply.actions, reply.policy_state = part.actions, part.policy_state
        return reply

    def goodbye(self, ctx: TurnContext) -> list[str]:
        return phrases.goodbye(ctx.call.initiate, ctx.call.current_lang)

    # -- one caller turn ------------------------------------------------------------

    async def _converse(
        self, ctx: TurnContext, words: str, event: PolicyEvent
    ) -> AsyncGenerator[ReplyPart, None]:
        state = LlmState.load(ctx.call.policy_state)
        model = self._slow_chat if ctx.features.slow_llm_for_chat else self._chat
        attempt = _Attempt()
        async for part in self._guarded(ctx, model, words, state, attempt):
            yield part
        if attempt.outcome != "done":
            log.warning(
                "llm attempt failed",
                extra={
                    "call_id": ctx.call.call_id,
                    "model": model.model,
                    "outcome": attempt.outcome,
                    "error": attempt.error,
                },
            )
        if attempt.spoke:
            if attempt.outcome != "done":
                yield Say(SORRY)  # something was said: finish the turn, never restart it
            yield TurnEnd(attempt.actions, state.dump(), attempt.tool_calls)
            return
        if attempt.outcome == "done":  # an action without words (the model's choice)
            yield TurnEnd(attempt.actions, state.dump(), attempt.tool_calls)
            return
        log.warning("llm fell back to the form policy", extra={"call_id": ctx.call.call_id})
        reply = await self._form.respond(self._form_context(ctx, state), event)
        state.form = reply.policy_state or state.form
        for sentence in reply.sentences:
            yield Say(sentence, reply.filler)
        yield TurnEnd(list(reply.actions), state.dump())

    async def _guarded(
        self,
        ctx: TurnContext,
        model: ChatModel,
        words: str,
        state: LlmState,
        attempt: _Attempt,
    ) -> AsyncGenerator[ReplyPart, None]:
        """The turn's parts: a filler when the answer is slow, a stall ends it."""
        queue: asyncio.Queue[ReplyPart | _Switched | _Timer | _Done] = asyncio.Queue()
        features = ctx.features
        generation = 0
        switches = 0  # models the chat model has fallen back to in this turn

        async def produce() -> None:
            try:
                async for part in self._rounds(ctx, model, words, state, attempt):
                    if isinstance(part, Say) and not part.filler:
                        attempt.spoke = True
                    queue.put_nowait(part)
            except Exception as exc:  # any failure of an attempt means: try the next one
                queue.put_nowait(_Done(exc))
                return
            queue.put_nowait(_Done())

        async def alarm(timer: _Timer, delay: float) -> None:
            await self._sleep(delay)
            queue.put_nowait(timer)

        def soft_timer() -> asyncio.Task[None]:
            return asyncio.create_task(
                alarm(_Timer("soft", switches), features.answer_soft_timeout_sec),
                name=f"brain-llm-soft-{call_id}",
            )

        call_id = ctx.call.call_id
        tasks = {asyncio.create_task(produce(), name=f"brain-llm-{call_id}")}
        soft = soft_timer()
        # Armed at the first sentence: from then on, a stall (model or tools) ends the turn.
        hard: asyncio.Task[None] | None = None
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _Switched):
                    switches += 1
                    soft.cancel()
                    soft = soft_timer()
                    continue
                if isinstance(item, _Timer):
                    if item.kind == "soft":
                        if not attempt.spoke and item.generation == switches:
                            filler = FILLERS[min(switches, len(FILLERS) - 1)]
                            yield Say(phrase_book.get(filler, ctx.call.current_lang), filler=True)
                        continue
                    if item.generation != generation:
                        continue  # re-armed since
                    attempt.outcome = "stalled"
                    return
                if isinstance(item, _Done):
                    if item.error is not None:
                        attempt.outcome = "failed"
                        attempt.error = type(item.error).__name__
                    elif not attempt.spoke and not attempt.actions:
                        attempt.outcome = "empty"
                    else:
                        attempt.outcome = "done"
                    return
                if isinstance(item, Say) and not item.filler:
                    if hard is not None:
                        hard.cancel()
                    generation += 1
                    hard = asyncio.create_task(
                        alarm(_Timer("hard", generation), features.answer_hard_timeout_sec),
                        name=f"brain-llm-hard-{call_id}",
                    )
                yield item
        finally:
            tasks.add(soft)
            if hard is not None:
                tasks.add(hard)
            await cancel_and_wait(tasks, CANCEL_WAIT_SEC)

    async def _rounds(
        self, ctx: TurnContext, model: ChatModel, words: str, state: LlmState, attempt: _Attempt
    ) -> AsyncGenerator[ReplyPart | _Switched, None]:
        """Model calls and tool runs until the model answers without tools."""
        settings = self._settings
        tools = llm_tools.tool_specs(ctx.call.initiate, sends_dtmf=ctx.sends_dtmf)
        budget = Budget(settings.max_history_messages, settings.context_tokens, settings.max_tokens)
        # A resumed leg: caller ID is no proof, so earlier legs' details stay out of reach.
        unverified = FormState.load(state.form).resumed_leg
        messages = conversation(ctx, words, tools, self._counter, budget, unverified)
        for round_number in range(settings.tool_rounds):
            offered = tools if round_number < settings.tool_rounds - 1 else None
            request = ChatRequest(
                messages=messages,
                tools=offered,
                tool_choice=settings.tool_choice,
                max_tokens=settings.max_tokens,
                temperature=settings.temperature,
                seed=settings.seed,
                start_timeout_sec=ctx.features.answer_hard_timeout_sec,
                # Words are owed to the caller; after tools, silence is a valid answer.
                require_answer=round_number == 0,
            )
            splitter = SentenceSplitter()
            calls: tuple[ModelToolCall, ...] = ()
            finish = ""
            async for event in model.stream(request):
                match event:
                    case TextDelta(text=text):
                        for sentence in splitter.feed(text):
                            yield Say(sentence)
                    case ToolCallsReady(calls=found):
                        calls = found
                    case Finished(reason=reason):
                        finish = reason
                    case ModelSwitched(rest=rest):
                        model = rest  # the turn's later rounds skip the model that failed
                        yield _Switched()
            for sentence in splitter.flush():
                yield Say(sentence)
            if finish == "content_filter":
                raise ContentFiltered("the answer was filtered")
            if not calls:
                if not splitter.text.strip() and round_number == 0:
                    raise ModelError("empty answer")
                return
            messages.append(ChatMessage("assistant", splitter.text or None, calls))
            async for part in self._run_tools(ctx, calls, state, attempt, messages):
                yield part
            if attempt.actions:
                if any(isinstance(a, EndCall) for a in attempt.actions) and not attempt.spoke:
                    for sentence in self.goodbye(ctx):
                        yield Say(sentence)
                return

    async def _run_tools(
        self,
        ctx: TurnContext,
        calls: tuple[ModelToolCall, ...],
        state: LlmState,
        attempt: _Attempt,
        messages: list[ChatMessage],
    ) -> AsyncGenerator[ReplyPart, None]:
        prepared = [llm_tools.prepare(call) for call in calls]
        said: list[str] = []
        for outcome, _ in prepared:
            if outcome.before and outcome.before not in said and len(said) < _MAX_CONFIRMATIONS:
                said.append(outcome.before)
                yield Say(outcome.before)  # spoken while the tools run
        rate = state.prosody_rate or ctx.call.initiate.prosody_rate
        outcomes = await asyncio.gather(
            *(
                llm_tools.run(ctx, outcome, args, rate)
                for outcome, args in prepared
                if args is not None
            )
        )
        by_id = {o.call.id: o for o in outcomes}
        for outcome, _ in prepared:
            done = by_id.get(outcome.call.id, outcome)
            messages.append(ChatMessage("tool", done.result, tool_call_id=done.call.id))
            attempt.tool_calls.append(
                ToolCall(
                    tool_id=done.call.id,
                    name=done.call.name,
                    arguments_json=done.call.arguments,
                    result=done.result,
                )
            )
            if done.prosody_rate is not None:
                state.prosody_rate = done.prosody_rate
            for part in done.parts:
                yield part
            if done.after:
                yield Say(done.after)
            if done.action is not None:
                attempt.actions.append(done.action)
        log.info(
            "llm tools ran",
            extra={
                "call_id": ctx.call.call_id,
                "tools": [c.name for c in calls],
                "pii_results": [m.content for m in messages[-len(calls) :]],
            },
        )

    def _form_context(self, ctx: TurnContext, state: LlmState) -> TurnContext:
        call = ctx.call.model_copy(update={"policy_state": state.form})
        return dataclasses.replace(ctx, call=call)
