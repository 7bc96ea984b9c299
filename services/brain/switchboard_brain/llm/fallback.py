"""The ``fallback`` chat model: fast → slow as one provider that wraps others.

A model that fails before it has said anything is dropped and the next one is
asked the same request; the caller of :meth:`FallbackChatModel.stream` sees one
answer. Failing means: an error, no start of an answer within
``request.start_timeout_sec``, the endpoint's content filter, or (with
``request.require_answer``) an answer with neither text nor tool calls. Once a
model has produced text or tool calls the answer is its own: a later failure is
raised, never papered over with a second answer. When every model failed,
:class:`ModelError` — the ``llm`` policy then lets the deterministic ``form``
policy answer the turn. Before each further model it yields :class:`ModelSwitched`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from switchboard_brain.llm.base import (
    ChatEvent,
    ChatModel,
    ChatRequest,
    ContentFiltered,
    Finished,
    ModelError,
    ModelSwitched,
    TextDelta,
)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ModelSilent(ModelError):
    """The model did not begin its answer within ``start_timeout_sec``."""


class FallbackChatModel(ChatModel):
    """Asks ``models`` in order until one answers; see the module docstring.

    The wrapped models belong to whoever built them: :meth:`close` leaves them open.
    """

    def __init__(self, models: Sequence[ChatModel], sleep: Sleep = asyncio.sleep) -> None:
        if not models:
            raise ValueError("a fallback needs at least one model")
        self.models = tuple(models)
        self.model = self.models[0].model
        self._sleep = sleep

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        failures: list[str] = []
        for number, model in enumerate(self.models):
            if number:
                rest = FallbackChatModel(self.models[number:], self._sleep)
                yield ModelSwitched(model.model, rest)
            attempt = _Attempt()
            try:
                async with _closing(self._attempt(model, request, attempt)) as events:
                    async for event in events:
                        yield event
                return
            except Exception as exc:  # any failure before the answer began: ask the next model
                if attempt.answered:
                    raise
                failures.append(f"{model.model}: {type(exc).__name__}")
                following = self.models[number + 1 :]
                log.warning(
                    "chat model failed before answering",
                    extra={
                        "model": model.model,
                        "attempt": number + 1,
                        "error": type(exc).__name__,
                        "next_model": following[0].model if following else None,
                    },
                )
        raise ModelError(f"every model failed ({'; '.join(failures)})")

    async def _attempt(
        self, model: ChatModel, request: ChatRequest, attempt: _Attempt
    ) -> AsyncIterator[ChatEvent]:
        """One model's answer; raises when it fails, before or after the answer began."""
        held: list[TextDelta] = []  # blank deltas, until the model says something real
        deadline: asyncio.Future[None] | None = None
        if request.start_timeout_sec is not None:
            deadline = asyncio.ensure_future(self._sleep(request.start_timeout_sec))
        try:
            async with _closing(model.stream(request)) as events:
                while (event := await _next(events, deadline)) is not None:
                    if attempt.answered:
                        yield event
                        continue
                    match event:
                        case TextDelta(text=text) if not text.strip():
                            held.append(event)
                            continue
                        case Finished(reason="content_filter"):
                            raise ContentFiltered("the endpoint's content filter refused")
                        case Finished() if request.require_answer:
                            raise ModelError("empty answer")
                    attempt.answered = True
                    if deadline is not None:
                        deadline.cancel()  # the answer began: stalls are the caller's to judge
                        deadline = None
                    for delta in held:
                        yield delta
                    yield event
        finally:
            if deadline is not None:
                deadline.cancel()
        if not attempt.answered and request.require_answer:
            raise ModelError("empty answer")


@dataclass
class _Attempt:
    answered: bool = False  # text or tool calls went out: the answer is this model's


async def _next(
    events: AsyncIterator[ChatEvent], deadline: asyncio.Future[None] | None
) -> ChatEvent | None:
    """The next event, or None at the end; :class:`ModelSilent` once ``deadline`` passed."""
    if deadline is None:
        return await anext(events, None)
    step = asyncio.ensure_future(_step(events))
    try:
        await asyncio.wait((step, deadline), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not step.done():
            # The generator must be idle again before anyone closes it.
            step.cancel()
            await asyncio.wait((step,))
    if step.cancelled():
        raise ModelSilent("the model did not begin its answer in time")
    return step.result()


async def _step(events: AsyncIterator[ChatEvent]) -> ChatEvent | None:
    return await anext(events, None)


@asynccontextmanager
async def _closing(events: AsyncIterator[ChatEvent]) -> AsyncIterator[AsyncIterator[ChatEvent]]:
    """Closes the model's stream (its HTTP request) however the attempt ends."""
    try:
        yield events
    finally:
        aclose = getattr(events, "aclose", None)  # every async generator has one
        if aclose is not None:
            await aclose()
