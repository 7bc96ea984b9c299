"""The ``form`` policy: a deterministic, claim-driven dialogue.

It asks each claim field in turn, phrased for the caller from its description, reads
every value the answer holds (:mod:`.form_candidates`: the asked field, values whose
type makes their field unambiguous, self-corrections), stores them, confirms them in
one short sentence, and moves on to the next field without a value. It understands
"can you repeat", "I want to talk to a person", "goodbye" and "I don't know"; a
question ("what is…?", "do you…?") that the knowledge base answers well enough is
answered, then the pending question is asked again; an answer it cannot use is asked
again, rephrased, at most until ``recognition_retry_max`` answers in a row failed,
then the field is skipped.

When every field is filled or skipped it recaps the values and asks whether there
is anything else; the caller's next answer ends the call with a goodbye (so their
"no thanks, bye" is heard and stored, not cut off). A goodbye earlier gets the
recap and the goodbye at once.
"""

from __future__ import annotations

from typing import ClassVar

from switchboard.config import RagSettings
from switchboard.domain import ClaimField, ClaimFieldType
from switchboard.errors import InvalidArgument, SwitchboardError
from switchboard.media import ExpectedAnswer
from switchboard_brain import phrases as phrase_book
from switchboard_brain.extract.corrections import is_correction
from switchboard_brain.extract.intents import Intent, detect_intent, yes_no
from switchboard_brain.policy import phrases
from switchboard_brain.policy.base import (
    AgentReply,
    ConversationPolicy,
    EndCall,
    Transfer,
    TurnContext,
)
from switchboard_brain.policy.form_candidates import Candidate, Reading, find_candidates
from switchboard_brain.policy.form_state import FormState
from switchboard_brain.policy.knowledge_answer import best_hit, is_question, spoken_answer

# "I don't know" beats a free-text answer only when the answer is short; a longer one
# ("not sure, but the car was parked") is an answer.
_DONT_KNOW_MAX_WORDS = 6


class FormPolicy(ConversationPolicy):
    """Asks, extracts, stores, confirms; one question at a time, as many values as said."""

    name: ClassVar[str] = "form"

    def __init__(self, settings: RagSettings | None = None) -> None:
        # Knowledge-base hits at least this close are read out as the answer.
        self._answer_min_score = (settings or RagSettings()).answer_min_score

    async def greet(self, ctx: TurnContext, resumed: bool) -> AgentReply:
        state = FormState.load(ctx.call.policy_state)
        request = ctx.call.initiate
        lang = ctx.call.current_lang
        state.resumed_leg = resumed
        state.confirming = resumed
        if resumed:
            # Caller ID is not authentication: ask before going on, read nothing back.
            state.last_question = phrase_book.get("resume_question", lang)
            return self._reply(state, phrases.welcome_back(request, lang))
        return self._continue(ctx, state, phrases.greeting(request, lang))

    async def answer(self, ctx: TurnContext, text: str) -> AgentReply:
        return await self._answer(ctx, text)

    async def keys(self, ctx: TurnContext, digits: str) -> AgentReply:
        """Typed digits answer the field just asked for, and only it: a policy number
        must not also land in an open phone number field."""
        return await self._answer(ctx, digits, typed=True)

    async def _answer(self, ctx: TurnContext, text: str, typed: bool = False) -> AgentReply:
        state = FormState.load(ctx.call.policy_state)
        lang = ctx.call.current_lang
        intent = detect_intent(text)
        if intent is Intent.HUMAN:
            return self._transfer(ctx, state)
        if intent is Intent.REPEAT and not state.ended:
            current = self._asked_field(ctx, state)
            last = state.last_question or (phrases.question(current, lang) if current else "")
            of_course = phrase_book.get("of_course", lang)
            return self._reply(state, [of_course, last] if last else [of_course])
        if state.confirming:
            state.confirming = False
            if intent is Intent.GOODBYE or yes_no(text) is False:
                lead = [phrase_book.get("all_right", lang)]
                return self._close(ctx, state, "caller_declined", lead, recap=False)
            if yes_no(text):
                return self._continue(ctx, state, [phrase_book.get("thank_you", lang)])
            # Neither yes nor no: the caller went straight on; read it as an answer.
        if not state.ended and (answer := await self._from_knowledge(ctx, text)):
            follow_up = state.last_question or phrase_book.get("anything_else", lang)
            return self._reply(state, [*answer, follow_up])
        if state.wrap_up or state.ended:
            # Whatever comes after "anything else?" ends the call: the form has nothing
            # more to offer, and the recap was already said.
            return self._close(ctx, state, "claim_complete", [], recap=False)
        current = self._asked_field(ctx, state)
        if intent is Intent.GOODBYE:
            if current is not None:  # "It was yesterday, that's all, bye": kept, then recapped
                said = self._candidates(ctx, state, current, text, typed)
                if current.type is ClaimFieldType.TEXT:  # "bye" is no description
                    said = [c for c in said if c.field != current.name]
                await self._store(ctx, state, said)
            return self._close(ctx, state, "caller_goodbye", [])
        if current is None:
            return self._wrap_up(ctx, state, [])
        candidates = self._candidates(ctx, state, current, text, typed)
        answered = any(c.field == current.name for c in candidates)
        if intent is Intent.DONT_KNOW and (
            not answered
            or (current.type is ClaimFieldType.TEXT and len(text.split()) <= _DONT_KNOW_MAX_WORDS)
        ):
            state.skip(current.name)
            # "I don't know the date, but my e-mail is …": the rest is still kept.
            others = [c for c in candidates if c.field != current.name]
            kept = await self._store(ctx, state, others)
            skip = phrase_book.get("skip_field", lang)
            return self._continue(ctx, state, [skip, *self._confirmation(ctx, kept)])
        stored = await self._store(ctx, state, candidates)
        if current.name in stored:
            state.retries.pop(current.name, None)
        if stored:
            # Volunteered values alone are no failed answer: the pending question follows.
            return self._continue(ctx, state, self._confirmation(ctx, stored))
        return self._retry(ctx, state, current)

    @staticmethod
    def _confirmation(ctx: TurnContext, stored: dict[str, str]) -> list[str]:
        """One sentence confirming the values just stored, in the claim's order; none for none."""
        fields = [f for f in ctx.call.initiate.claim if f.name in stored]
        if not fields:
            return []
        return [phrases.confirmation([(f, stored[f.name]) for f in fields], ctx.call.current_lang)]

    @staticmethod
    def _candidates(
        ctx: TurnContext, state: FormState, current: ClaimField, text: str, typed: bool = False
    ) -> list[Candidate]:
        """What the answer fills: the asked field, open fields whose type makes a value
        unambiguous, and, when the caller corrects themselves, the fields just filled.
        Typed digits fill the asked field only; a text field takes them as typed (a
        policy number is no phone number, however it looks)."""
        if typed and current.type is ClaimFieldType.TEXT:
            return [Candidate(current.name, text, (0, len(text)))]
        claim = ctx.call.claim
        correcting = set(state.last_filled) if is_correction(text) else set()
        open_fields = [
            f
            for f in ctx.call.initiate.claim
            if f.name == current.name
            or (not typed and (f.name not in claim or f.name in correcting))
        ]
        return find_candidates(
            text,
            asked=current,
            open_fields=open_fields,
            filled=claim,
            reading=Reading(
                ctx.now, ctx.region, ctx.call.initiate.phone_number, ctx.call.current_lang
            ),
        )

    @staticmethod
    async def _store(
        ctx: TurnContext, state: FormState, candidates: list[Candidate]
    ) -> dict[str, str]:
        """Each value made durable (as the store normalised it); one the store rejects is
        left out, as if it had not been said."""
        stored: dict[str, str] = {}
        for candidate in candidates:
            try:
                stored[candidate.field] = await ctx.update_claim(candidate.field, candidate.value)
            except InvalidArgument:
                continue
            if candidate.field in state.skipped:
                state.skipped.remove(candidate.field)
        state.last_filled = list(stored)
        return stored

    async def _from_knowledge(self, ctx: TurnContext, text: str) -> list[str]:
        """Sentences answering a caller's question from the knowledge base, or none."""
        if ctx.search_documents is None or not is_question(text):
            return []
        try:
            hit = best_hit(await ctx.search_documents(text), self._answer_min_score)
        except SwitchboardError:
            return []  # no knowledge base today: the form goes on
        return spoken_answer(text, hit) if hit else []

    def goodbye(self, ctx: TurnContext) -> list[str]:
        return phrases.goodbye(ctx.call.initiate, ctx.call.current_lang)

    def expected_answer(self, ctx: TurnContext, policy_state: str) -> ExpectedAnswer:
        """The type of the field the last question asked for; nothing in particular while
        confirming a resumed call, after the recap, or once the call is ending."""
        state = FormState.load(policy_state)
        asked = None
        if state.field and not (state.confirming or state.wrap_up or state.ended):
            asked = ctx.call.initiate.field(state.field)
        return ExpectedAnswer(asked.type if asked else None, ctx.region or "")

    @staticmethod
    def _asked_field(ctx: TurnContext, state: FormState) -> ClaimField | None:
        """The field the last question asked for, even if already filled: when a turn is
        resent after a crash between storing its value and storing the reply, the answer
        must go to the same field again, not to the next one."""
        if state.field and state.field not in state.skipped:
            asked = ctx.call.initiate.field(state.field)
            if asked is not None:
                return asked
        return state.next_field(ctx.call)

    # -- building replies -------------------------------------------------------------

    @staticmethod
    def _reply(state: FormState, sentences: list[str], *actions: Transfer | EndCall) -> AgentReply:
        return AgentReply(sentences, list(actions), state.dump())

    def _continue(self, ctx: TurnContext, state: FormState, lead: list[str]) -> AgentReply:
        """``lead``, then the next question, or the recap when nothing is left."""
        upcoming = state.next_field(ctx.call)
        if upcoming is None:
            return self._wrap_up(ctx, state, lead)
        state.field = upcoming.name
        asking = phrases.asking(upcoming, ctx.call.current_lang)
        state.last_question = " ".join(asking)
        return self._reply(state, [*lead, *asking])

    def _retry(self, ctx: TurnContext, state: FormState, current: ClaimField) -> AgentReply:
        failures = state.retries.get(current.name, 0) + 1
        state.retries[current.name] = failures
        if failures >= ctx.features.recognition_retry_max:
            state.skip(current.name)
            give_up = phrase_book.get("give_up_field", ctx.call.current_lang)
            return self._continue(ctx, state, [give_up])
        sentences = phrases.rephrase(current, failures, ctx.call.current_lang)
        state.field = current.name
        state.last_question = " ".join(sentences[1:])
        return self._reply(state, sentences)

    def _transfer(self, ctx: TurnContext, state: FormState) -> AgentReply:
        lang = ctx.call.current_lang
        if not ctx.call.initiate.agent_phone_number:
            # No human is configured for this line: say so and keep taking the message.
            return self._continue(ctx, state, [phrase_book.get("no_agent", lang)])
        state.transfer_requested = True
        sentences = [phrase_book.get("transfer", lang), phrase_book.get("stay_on_line", lang)]
        return self._reply(state, sentences, Transfer(ctx.call.initiate.agent_phone_number))

    def _wrap_up(self, ctx: TurnContext, state: FormState, lead: list[str]) -> AgentReply:
        """Every field is filled or skipped: recap, then let the caller close the call
        (hanging up on the caller's last answer would cut off their "thank you, bye")."""
        state.field = None
        state.wrap_up = True
        lang = ctx.call.current_lang
        state.last_question = phrase_book.get("anything_else", lang)
        recap = phrases.recap(ctx.call.initiate, ctx.call.claim, not state.resumed_leg, lang)
        return self._reply(state, [*lead, *recap, state.last_question])

    def _close(
        self, ctx: TurnContext, state: FormState, reason: str, lead: list[str], recap: bool = True
    ) -> AgentReply:
        state.field = None
        state.ended = reason
        request = ctx.call.initiate
        lang = ctx.call.current_lang
        read_values = not state.resumed_leg
        summary = phrases.recap(request, ctx.call.claim, read_values, lang) if recap else []
        sentences = [*lead, *summary, *phrases.goodbye(request, lang)]
        return self._reply(state, sentences, EndCall(reason))
