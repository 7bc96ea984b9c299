"""The fallback chat model (fast → slow), on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard_brain.llm import create_fallback
from switchboard_brain.llm.base import (
    ChatEvent,
    ChatMessage,
    ChatModel,
    ChatRequest,
    Finished,
    ModelError,
    ModelSwitched,
    TextDelta,
)
from switchboard_brain.llm.fallback import FallbackChatModel
from switchboard_testing.brain_fakes import Reply, ScriptedChatModel, provider_down
from switchboard_testing.clock import VirtualClock

ASK = ChatRequest([ChatMessage("user", "Hello?")], start_timeout_sec=15.0, require_answer=True)


class Models:
    """A fast and a slow scripted model behind one fallback, on virtual time."""

    def __init__(self) -> None:
        self.time = VirtualClock()
        self.fast = ScriptedChatModel(sleep=self.time.sleep, model="fast")
        self.slow = ScriptedChatModel(sleep=self.time.sleep, model="slow")
        self.chat = FallbackChatModel((self.fast, self.slow), self.time.sleep)
        self.arrivals: list[tuple[float, ChatEvent]] = []

    async def ask(self, request: ChatRequest = ASK) -> list[ChatEvent]:
        async def consume() -> list[ChatEvent]:
            events = []
            async for event in self.chat.stream(request):
                self.arrivals.append((self.time.monotonic(), event))
                events.append(event)
            return events

        return await self.time.run(consume())


def text(events: list[ChatEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_the_first_model_answers_and_the_second_is_never_asked() -> None:
    models = Models()
    models.fast.replies = [Reply("Hi there.")]
    events = await models.ask()
    assert text(events) == "Hi there."
    assert isinstance(events[-1], Finished)
    assert not models.slow.requests
    assert not any(isinstance(e, ModelSwitched) for e in events)


async def test_a_failing_model_hands_the_same_request_to_the_next() -> None:
    models = Models()
    models.fast.replies = [Reply(error=provider_down())]
    models.slow.replies = [Reply("The slow model answers.")]
    events = await models.ask()
    switched = events[0]
    assert isinstance(switched, ModelSwitched) and switched.model == "slow"
    assert text(events) == "The slow model answers."
    assert models.slow.requests == [ASK]


async def test_a_model_that_does_not_begin_in_time_is_dropped_at_the_start_timeout() -> None:
    models = Models()
    models.fast.replies = [Reply("Too late.", delay=60.0)]
    models.slow.replies = [Reply("In time.")]
    events = await models.ask()
    assert text(events) == "In time."
    switched_at = next(t for t, e in models.arrivals if isinstance(e, ModelSwitched))
    assert switched_at == ASK.start_timeout_sec
    assert "Too late." not in text(events)


async def test_an_answer_that_began_is_not_cut_off_by_the_start_timeout() -> None:
    models = Models()
    models.fast.replies = [Reply("First part. Then a long pause.", pause_after_first_sentence=40.0)]
    events = await models.ask()
    assert text(events) == "First part. Then a long pause."
    assert models.time.monotonic() == 40.0
    assert not models.slow.requests


async def test_empty_and_filtered_answers_count_as_failures_when_an_answer_is_required() -> None:
    for failure in (Reply(text="  ", finish="stop"), Reply(text="", finish="content_filter")):
        models = Models()
        models.fast.replies = [failure]
        models.slow.replies = [Reply("Something.")]
        assert text(await models.ask()) == "Something.", failure


async def test_an_empty_answer_passes_through_when_none_is_required() -> None:
    models = Models()
    models.fast.replies = [Reply(text="", finish="stop")]
    events = await models.ask(ChatRequest([ChatMessage("user", "ok")], start_timeout_sec=15.0))
    assert events == [Finished("stop")]
    assert not models.slow.requests


async def test_a_failure_after_the_answer_began_is_raised_not_answered_twice() -> None:
    class BreaksMidway(ChatModel):
        model = "breaks"

        async def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
            yield TextDelta("Half an ans")
            raise provider_down()

    models = Models()
    models.chat = FallbackChatModel((BreaksMidway(), models.slow), models.time.sleep)
    with pytest.raises(ModelError):
        await models.ask()
    assert not models.slow.requests


async def test_when_every_model_failed_the_error_names_them_all() -> None:
    models = Models()
    models.fast.replies = [Reply(error=provider_down())]
    models.slow.replies = [Reply("never", delay=99.0)]
    with pytest.raises(
        ModelError, match=r"every model failed \(fast: ModelError; slow: ModelSilent\)"
    ):
        await models.ask()
    assert models.time.monotonic() == 15.0  # the slow one had its own start timeout


async def test_the_switch_carries_the_models_that_remain_for_the_turns_later_requests() -> None:
    models = Models()
    models.fast.replies = [Reply(error=provider_down())]
    events = await models.ask()
    switched = events[0]
    assert isinstance(switched, ModelSwitched)
    assert isinstance(switched.rest, FallbackChatModel)
    assert [m.model for m in switched.rest.models] == ["slow"]


class Hangs(ChatModel):
    """Says ``first``, then its next word after an hour; records when its stream is closed."""

    model = "hangs"

    def __init__(self, time: VirtualClock, first: str = " ") -> None:
        self._time = time
        self._first = first
        self.closed = False

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        try:
            yield TextDelta(self._first)
            await self._time.sleep(3600)
            yield TextDelta("never")
        finally:
            self.closed = True


async def test_a_dropped_model_stream_is_closed() -> None:
    models = Models()
    hangs = Hangs(models.time)
    models.chat = FallbackChatModel((hangs, models.slow), models.time.sleep)
    await models.ask()
    assert hangs.closed


async def test_cancelling_the_answer_closes_the_model_stream_at_once() -> None:
    models = Models()
    hangs = Hangs(models.time)
    models.chat = FallbackChatModel((hangs, models.slow), models.time.sleep)

    async def consume() -> None:
        async for _ in models.chat.stream(ASK):
            pass

    async def cancel_after_a_second() -> asyncio.Task[None]:
        task = asyncio.ensure_future(consume())
        await models.time.sleep(1.0)
        task.cancel()
        await asyncio.wait((task,))
        return task

    task = await models.time.run(cancel_after_a_second())
    assert task.cancelled()
    assert hangs.closed and models.time.monotonic() == 1.0
    assert not models.slow.requests


async def test_a_reader_that_stops_early_closes_the_model_stream_at_once() -> None:
    models = Models()
    talks = Hangs(models.time, first="Well")
    models.chat = FallbackChatModel((talks,), models.time.sleep)
    stream = models.chat.stream(ChatRequest([ChatMessage("user", "Hi")]))
    assert await anext(stream) == TextDelta("Well")
    await stream.aclose()  # type: ignore[attr-defined]  # an async generator
    assert talks.closed


def test_the_registry_builds_the_fallback_by_name() -> None:
    fast, slow = ScriptedChatModel(model="fast"), ScriptedChatModel(model="slow")
    chain = create_fallback(fast, slow)
    assert isinstance(chain, FallbackChatModel)
    assert chain.model == "fast" and chain.models == (fast, slow)
