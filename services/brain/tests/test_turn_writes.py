"""What a caller turn writes to the store, and which write the answer waits for: the
claim the bot acts on is durable before the sentence that acts on it; the caller's
words ride with that claim update, or are stored in the background when there is none."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from switchboard.converse import AgentSentence, AgentTurnDone, UserTurn
from switchboard.domain import Message, Persona
from switchboard_testing.brain_fakes import InMemoryStore
from switchboard_testing.form_helpers import collect, greet, open_session, turn

HUMAN, ASSISTANT = Persona.HUMAN, Persona.ASSISTANT
TICKS = 50  # event-loop turns given to a turn that must not move on
WAIT_SEC = 5.0  # a guard against a hang, never reached when the turn behaves


class HeldStore(InMemoryStore):
    """Holds one kind of write ("claim" or "caller_append") until :attr:`release` is set:
    a slow disk under that write."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def _hold(self, kind: str) -> None:
        if kind == self.held:
            self.holding.set()
            await self.release.wait()

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        if any(m.persona is HUMAN for m in messages):
            await self._hold("caller_append")
        return await super().append_messages(call_id, messages, policy_state)

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[Message] = ()
    ) -> dict[str, str]:
        await self._hold("claim")
        return await super().update_claim(call_id, updates, messages)


async def settle() -> None:
    for _ in range(TICKS):
        await asyncio.sleep(0)


async def test_a_turn_that_fills_a_field_stores_the_callers_words_with_the_claim_in_one_write() -> (
    None
):
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)
    store.writes.clear()

    await turn(session, "t1", "yesterday")

    assert store.writes == [
        ("update_claim", [(HUMAN, "t1")]),
        ("append_messages", [(ASSISTANT, "t1")]),
    ]
    assert "incident_datetime" in store.calls["call-1"].claim


async def test_the_answer_waits_for_the_claim_it_acts_on() -> None:
    store = HeldStore("claim")
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = session.handle(UserTurn("t1", "yesterday"))
    first = asyncio.create_task(anext(events))  # type: ignore[arg-type]
    await asyncio.wait_for(store.holding.wait(), WAIT_SEC)
    await settle()
    assert not first.done()  # nothing said while the claim is not durable

    store.release.set()
    sentence = await first
    assert isinstance(sentence, AgentSentence) and sentence.text.startswith("Got it")
    rest = await collect(events)
    assert rest[-1] == AgentTurnDone("t1")


async def test_a_turn_that_fills_no_field_answers_before_the_callers_words_are_durable() -> None:
    store = HeldStore("caller_append")
    store.new_call()
    session = await open_session(store)
    await greet(session)

    events = session.handle(UserTurn("t1", "sorry, can you repeat?"))
    sentence = await asyncio.wait_for(anext(events), WAIT_SEC)  # type: ignore[arg-type]
    assert isinstance(sentence, AgentSentence) and not sentence.filler
    await asyncio.wait_for(store.holding.wait(), WAIT_SEC)
    rest = asyncio.create_task(collect(events))
    await settle()
    # The turn is not over (no agent message, no turn_done) before the words are stored.
    assert not rest.done()
    assert [m for m in store.calls["call-1"].messages if m.turn_id == "t1"] == []

    store.release.set()
    assert (await rest)[-1] == AgentTurnDone("t1")
    stored = [(m.persona, m.turn_id) for m in store.calls["call-1"].messages if m.turn_id == "t1"]
    assert stored == [(HUMAN, "t1"), (ASSISTANT, "t1")]


async def test_a_value_the_store_rejects_still_leaves_the_callers_words_stored_once() -> None:
    store = InMemoryStore()
    store.new_call()
    session = await open_session(store)
    await greet(session)
    await turn(session, "t1", "yesterday")

    await turn(session, "t2", "john dot dot smith at example dot com")

    assert "email" not in store.calls["call-1"].claim
    stored = [(m.persona, m.turn_id) for m in store.calls["call-1"].messages if m.turn_id == "t2"]
    assert stored == [(HUMAN, "t2"), (ASSISTANT, "t2")]
