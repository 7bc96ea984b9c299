"""A barge-in reaches the brain: the turn being decided stops, the caller's new words are
answered at once, and an interrupted turn's actions never run. All on virtual time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from switchboard.converse import (
    AgentSentence,
    AgentTurnDone,
    CallerHangup,
    CancelAgentTurn,
    ConversationStart,
    ConverseRequest,
    ConverseResponse,
    EndCallRequest,
    SmsRequest,
    UserTurn,
)
from switchboard.domain import ChunkHit, Persona
from switchboard_brain.stream import converse
from switchboard_testing.brain_fakes import Reply, tool
from switchboard_testing.llm_helpers import Rig

SLOW_PAUSE_SEC = 10.0  # the model stalls this long after its first sentence


class Line:
    """The dialer's side of one Converse stream, with the virtual time of each event."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.inbound: asyncio.Queue[ConverseRequest | None] = asyncio.Queue()
        self.received: list[tuple[float, ConverseResponse]] = []
        self._new = asyncio.Event()

    async def requests(self) -> AsyncIterator[ConverseRequest]:
        while (request := await self.inbound.get()) is not None:
            yield request

    async def run(self, **open_args: object) -> None:
        session = await self.rig.open(**open_args)  # type: ignore[arg-type]
        async for event in converse(session, ConversationStart("call-1"), self.requests()):
            self.received.append((self.rig.time.monotonic(), event))
            self._new.set()

    def send(self, request: ConverseRequest) -> float:
        self.inbound.put_nowait(request)
        return self.rig.time.monotonic()

    async def until(self, wanted: ConverseResponse) -> float:
        """The virtual time ``wanted`` arrived at."""
        while True:
            for at, event in self.received:
                if event == wanted:
                    return at
            self._new.clear()
            await self._new.wait()

    def of_turn(self, turn_id: str) -> list[ConverseResponse]:
        return [e for _, e in self.received if getattr(e, "turn_id", None) == turn_id]


async def test_a_barge_in_stops_a_slow_answer_and_the_new_words_are_answered_at_once() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            "Let me look into that. It will take a little while.",
            pause_after_first_sentence=SLOW_PAUSE_SEC,
        ),
        Reply("I am sorry to hear about your car."),
    ]
    line = Line(rig)

    async def scenario() -> float:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "what is my policy number"))
        await line.until(AgentSentence("t1", 0, "Let me look into that."))
        line.send(CancelAgentTurn("t1"))
        sent_at = line.send(UserTurn("t2", "no wait, my car was hit"))
        answered_at = await line.until(AgentSentence("t2", 0, "I am sorry to hear about your car."))
        await line.until(AgentTurnDone("t2"))
        line.send(CallerHangup("caller_hangup"))
        await call
        return answered_at - sent_at

    assert await rig.time.run(scenario()) <= 0.05
    assert rig.fast.open_streams == 0  # the stalled model request was closed
    assert AgentTurnDone("t1") not in line.of_turn("t1")
    kept = [m for m in rig.call.messages if m.turn_id == "t1" and m.persona is Persona.ASSISTANT]
    assert [(m.content, m.interrupted) for m in kept] == [("Let me look into that.", True)]


async def test_a_turn_cancelled_while_the_model_thinks_still_stores_the_callers_words() -> None:
    rig = Rig()
    rig.fast.replies = [Reply("Let me see.", delay=SLOW_PAUSE_SEC), Reply("Sure.")]
    line = Line(rig)

    async def scenario() -> None:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "what is my policy number"))
        await rig.time.sleep(1.0)  # the model has not said a word yet
        line.send(UserTurn("t2", "never mind"))
        await line.until(AgentTurnDone("t2"))
        line.send(None)
        await call

    await rig.time.run(scenario())
    human = [m.turn_id for m in rig.call.messages if m.persona is Persona.HUMAN]
    assert human == ["t1", "t2"]


async def test_a_newer_caller_turn_alone_also_stops_the_running_turn() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply("Let me look into that. It takes a while.", pause_after_first_sentence=60),
        Reply("Sure."),
    ]
    line = Line(rig)

    async def scenario() -> float:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "question"))
        await line.until(AgentSentence("t1", 0, "Let me look into that."))
        sent_at = line.send(UserTurn("t2", "never mind"))
        answered_at = await line.until(AgentSentence("t2", 0, "Sure."))
        line.send(None)
        await call
        return answered_at - sent_at

    assert await rig.time.run(scenario()) <= 0.05
    # The dialer did not cancel t1 itself: it is told t1 is over, after what t1 sent.
    assert line.of_turn("t1") == [
        AgentSentence("t1", 0, "Let me look into that."),
        AgentTurnDone("t1"),
    ]


async def test_a_barge_in_over_the_goodbye_keeps_the_call() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            "Thank you for your time. I will send you a text. Goodbye!",
            tools=[tool("end_call"), tool("send_sms", message="Your claim", customer_response="")],
            pause_after_first_sentence=SLOW_PAUSE_SEC,
        ),
        Reply("Of course, what else can I do for you?"),
    ]
    line = Line(rig)

    async def scenario() -> None:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "that's all"))
        await line.until(AgentSentence("t1", 0, "Thank you for your time."))
        line.send(CancelAgentTurn("t1"))
        line.send(UserTurn("t2", "wait!"))
        await line.until(AgentTurnDone("t2"))
        await rig.time.sleep(60)  # long past the stalled goodbye
        line.send(None)
        await call

    await rig.time.run(scenario())
    events = [e for _, e in line.received]
    assert not any(isinstance(e, EndCallRequest | SmsRequest) for e in events)
    assert "Of course, what else can I do for you?" in [
        e.text for e in events if isinstance(e, AgentSentence)
    ]


async def test_a_cancel_for_a_turn_that_already_finished_changes_nothing() -> None:
    rig = Rig()
    rig.fast.replies = [Reply("Noted."), Reply("Anything else?")]
    line = Line(rig)

    async def scenario() -> None:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "my name is Ann"))
        await line.until(AgentTurnDone("t1"))
        line.send(CancelAgentTurn("t1"))
        line.send(UserTurn("t2", "that's it"))
        await line.until(AgentTurnDone("t2"))
        line.send(None)
        await call

    await rig.time.run(scenario())
    stored = [m.turn_id for m in rig.call.messages if m.persona is Persona.ASSISTANT]
    assert stored[-2:] == ["t1", "t2"]


async def test_a_barge_in_cancels_running_tools_and_reports_what_they_already_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply(
            tools=[
                tool("updated_claim", updates=[{"field": "email", "value": "jo@example.com"}]),
                tool("search_documents", queries=["glass cover"]),
            ]
        )
    ]
    searches: list[str] = []
    searching = asyncio.Event()

    async def slow_search(query: str) -> list[ChunkHit]:
        searches.append("started")
        searching.set()
        try:
            await rig.time.sleep(60)
        except asyncio.CancelledError:
            searches.append("cancelled")
            raise
        return []

    line = Line(rig)

    async def scenario() -> None:
        call = asyncio.create_task(line.run(search=slow_search))
        line.send(UserTurn("t1", "my email is jo at example dot com, is glass covered?"))
        await searching.wait()  # the claim tool ran first and has stored its value
        line.send(CancelAgentTurn("t1"))
        line.send(None)
        await call

    with caplog.at_level(logging.INFO, logger="switchboard_brain.session"):
        await rig.time.run(scenario())
    assert searches == ["started", "cancelled"]
    assert rig.call.claim["email"] == "jo@example.com"  # committed before the cancel
    (cut,) = [r for r in caplog.records if r.getMessage() == "agent turn cut short"]
    assert cut.committed == ["claim:email"]  # type: ignore[attr-defined]
    assert not any(isinstance(e, AgentTurnDone) for _, e in line.received)


async def test_the_hang_up_stops_a_turn_being_decided_and_ends_the_stream_at_once() -> None:
    rig = Rig()
    rig.fast.replies = [
        Reply("Let me look into that. It takes a while.", pause_after_first_sentence=60)
    ]
    line = Line(rig)

    async def scenario() -> float:
        call = asyncio.create_task(line.run())
        line.send(UserTurn("t1", "question"))
        await line.until(AgentSentence("t1", 0, "Let me look into that."))
        hung_up_at = line.send(CallerHangup("caller_hangup"))
        await call
        return rig.time.monotonic() - hung_up_at

    assert await rig.time.run(scenario()) == 0
    assert rig.fast.open_streams == 0
    assert line.of_turn("t1") == [AgentSentence("t1", 0, "Let me look into that.")]
