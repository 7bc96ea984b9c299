"""A turn cancelled while its write is in flight: the next turn decides on what the
store committed, never on what the cancelled turn only meant to store (nor on less).
The form policy on a live stream, a store whose writes commit and then answer late."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from switchboard.converse import (
    AgentTurnDone,
    CallerHangup,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    UserTurn,
)
from switchboard.domain import ClaimField, Message
from switchboard_brain.policy.form_state import FormState
from switchboard_brain.session import ConversationSession
from switchboard_brain.stream import converse
from switchboard_testing.brain_fakes import InMemoryStore
from switchboard_testing.form_helpers import open_session

EMAIL = ClaimField.model_validate(
    {"name": "email", "type": "email", "description": "your e-mail address"}
)
WAIT_SEC = 5.0


class LateStore(InMemoryStore):
    """Commits every write at once; the answer to the held kind ("claim" or "agent",
    the agent's message with the policy state) comes back only once released."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held = held
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def _late(self, kind: str) -> None:
        if kind == self.held and not self.release.is_set():
            self.holding.set()
            await self.release.wait()

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        stored = await super().append_messages(call_id, messages, policy_state)
        if policy_state is not None:
            await self._late("agent")
        return stored

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[Message] = ()
    ) -> dict[str, str]:
        claim = await super().update_claim(call_id, updates, messages)
        await self._late("claim")
        return claim


class Line:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.inbound: asyncio.Queue[ConverseRequest | None] = asyncio.Queue()
        self.received: list[ConverseResponse] = []
        self.session: ConversationSession | None = None
        self._new = asyncio.Event()

    async def _requests(self) -> AsyncIterator[ConverseRequest]:
        while (request := await self.inbound.get()) is not None:
            yield request

    async def run(self) -> None:
        self.session = session = await open_session(self.store)
        async for event in converse(session, ConversationStart("call-1"), self._requests()):
            self.received.append(event)
            self._new.set()

    async def until_done(self, turn_id: str) -> None:
        while AgentTurnDone(turn_id) not in self.received:
            self._new.clear()
            await self._new.wait()


def retries(raw: str) -> int:
    return FormState.load(raw).retries.get("email", 0)


async def test_a_resend_of_a_turn_whose_answer_was_being_stored_is_not_decided_twice() -> None:
    store = LateStore("agent")
    store.new_call(claim=[EMAIL])
    line = Line(store)

    async def scenario() -> None:
        call = asyncio.create_task(line.run())
        await asyncio.sleep(0.01)  # greeted: the e-mail address was asked
        store.holding.clear()
        line.inbound.put_nowait(UserTurn("t1", "hold on, let me find my papers"))
        await store.holding.wait()  # t1's answer and state are committed, not yet confirmed
        line.inbound.put_nowait(UserTurn("t1", "hold on, let me find my papers"))  # resent
        await asyncio.sleep(0.01)
        store.release.set()
        line.inbound.put_nowait(UserTurn("t2", "sorry, it is taking me a moment"))
        await line.until_done("t2")
        line.inbound.put_nowait(CallerHangup("caller_hangup"))
        await call

    await asyncio.wait_for(scenario(), WAIT_SEC)
    # One failed answer each: t1 counted once, so the field is not skipped a turn early.
    assert retries(store.calls["call-1"].policy_state) == 2


async def test_after_a_cancelled_turn_the_session_sees_what_the_store_committed() -> None:
    store = LateStore("claim")
    store.new_call(claim=[EMAIL])
    line = Line(store)

    async def scenario() -> None:
        call = asyncio.create_task(line.run())
        await asyncio.sleep(0.01)
        line.inbound.put_nowait(UserTurn("t1", "mary at example dot com"))
        await store.holding.wait()  # committed, the answer is late; the caller goes on
        line.inbound.put_nowait(UserTurn("t2", "goodbye"))
        await line.until_done("t2")
        line.inbound.put_nowait(CallerHangup("caller_hangup"))
        await call

    await asyncio.wait_for(scenario(), WAIT_SEC)
    assert line.session is not None
    stored = store.calls["call-1"]
    assert stored.claim == {"email": "mary@example.com"}
    assert line.session.call.claim == stored.claim
    assert line.session.call.policy_state == stored.policy_state
