"""An in-memory store with the StoreClient interface and the real store's rules."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from switchboard.claims import normalise_claim_value
from switchboard.domain import (
    Call,
    CallRequest,
    ChunkHit,
    ClaimField,
    ClaimFieldType,
    DocumentChunk,
    Message,
    NextAction,
    Persona,
    Reminder,
    Synthesis,
)
from switchboard.errors import InvalidArgument, NotFound
from switchboard_brain.llm.base import (
    ChatEvent,
    ChatModel,
    ChatRequest,
    Finished,
    ModelError,
    ModelToolCall,
    TextDelta,
    ToolCallsReady,
)
from switchboard_brain.rag.embedder import Embedder, Vectors

# Tuesday 24 November 2026, 10:00 in New York.
REFERENCE_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

CLAIM = (
    ClaimField(
        name="incident_datetime",
        type=ClaimFieldType.DATETIME,
        description="When did the incident happen?",
    ),
    ClaimField(name="email", type=ClaimFieldType.EMAIL, description="Your e-mail address"),
    ClaimField(
        name="callback_phone",
        type=ClaimFieldType.PHONE_NUMBER,
        description="A phone number where we can reach you",
    ),
    ClaimField(
        name="description", type=ClaimFieldType.TEXT, description="What happened, in a few words"
    ),
)


def call_request(**changes: object) -> CallRequest:
    values: dict[str, object] = {
        "bot_company": "Contoso Insurance",
        "bot_name": "Amelia",
        "phone_number": "+12125550100",
        "agent_phone_number": "+12125550199",
        "task": "Collect the details of a car insurance claim.",
        "claim": CLAIM,
        "timezone": "America/New_York",
    }
    values.update(changes)
    return CallRequest.model_validate(values)


class InMemoryStore:
    """Implements the calls the brain makes, like the Store service does."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.appends: list[tuple[list[Message], str | None]] = []
        self.claim_updates: list[dict[str, str]] = []
        # Every write, in order: its kind and the (persona, turn id) of the messages it stored.
        self.writes: list[tuple[str, list[tuple[Persona, str]]]] = []
        self.read_call_ids: list[str] = []
        self.documents: dict[str, DocumentChunk] = {}
        self.synthesis_jobs: list[str] = []  # the job of every stored synthesis, in order
        self._seq = 0

    def add_call(self, call: Call) -> Call:
        self.calls[call.call_id] = call
        return call

    def new_call(self, call_id: str = "call-1", **request: object) -> Call:
        return self.add_call(Call(call_id=call_id, initiate=call_request(**request)))

    async def get_call(self, call_id: str) -> Call:
        self.read_call_ids.append(call_id)
        if call_id not in self.calls:
            raise NotFound(f"call {call_id!r} does not exist")
        return self.calls[call_id].model_copy(deep=True)

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        self.writes.append(("append_messages", [(m.persona, m.turn_id) for m in messages]))
        return self._append(call_id, messages, policy_state)

    def _append(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        call = self.calls[call_id]
        self.appends.append(([m.model_copy() for m in messages], policy_state))
        stored = []
        for message in messages:
            existing = next(
                (
                    m
                    for m in call.messages
                    if message.turn_id
                    and (m.turn_id, m.persona) == (message.turn_id, message.persona)
                ),
                None,
            )
            if existing is not None:
                existing.content = message.content
                existing.interrupted = message.interrupted
                stored.append(existing.model_copy())
                continue
            self._seq += 1
            kept = message.model_copy(update={"seq": self._seq, "created_at": REFERENCE_NOW})
            call.messages.append(kept)
            stored.append(kept.model_copy())
        if policy_state is not None:
            call.policy_state = policy_state
        return stored

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[Message] = ()
    ) -> dict[str, str]:
        call = self.calls[call_id]
        normalised = {}
        for name, value in updates.items():
            field = call.initiate.field(name)
            if field is None:
                raise InvalidArgument(f"claim field {name!r} is not in the call's schema")
            normalised[name] = normalise_claim_value(field, value)
        self.writes.append(("update_claim", [(m.persona, m.turn_id) for m in messages]))
        if messages:  # all or nothing, like the store: only once every value is valid
            self._append(call_id, list(messages))
        call.claim.update(normalised)
        self.claim_updates.append(normalised)
        return dict(call.claim)

    async def save_synthesis(
        self,
        call_id: str,
        synthesis: Synthesis,
        next_action: NextAction,
        sms_summary: str,
        job_id: str = "",
    ) -> Call:
        call = self.calls[call_id]
        if job_id and job_id in self.synthesis_jobs:
            return call.model_copy(deep=True)  # that job's report is stored: the first stands
        self.synthesis_jobs.append(job_id)
        call.synthesis, call.next_action, call.sms_summary = synthesis, next_action, sms_summary
        return call.model_copy(deep=True)

    async def upsert_reminder(self, call_id: str, reminder: Reminder) -> Reminder:
        call = self.calls[call_id]
        call.reminders = [r for r in call.reminders if r.title != reminder.title] + [reminder]
        return reminder

    async def set_call_language(self, call_id: str, lang: str) -> Call:
        call = self.calls[call_id]
        call.lang = lang
        return call.model_copy(deep=True)

    async def add_documents(self, chunks: list[DocumentChunk]) -> int:
        for chunk in chunks:
            self.documents[chunk.id] = chunk
        return len(chunks)

    async def search_documents(
        self, embedding: list[float], top_k: int = 5, min_score: float = 0.0
    ) -> list[ChunkHit]:
        query = np.asarray(embedding)
        hits = [
            ChunkHit(
                id=c.id,
                source=c.source,
                title=c.title,
                content=c.content,
                score=float(np.dot(query, np.asarray(c.embedding))),
            )
            for c in self.documents.values()
        ]
        hits = [h for h in hits if h.score >= min_score]
        return sorted(hits, key=lambda h: h.score, reverse=True)[:top_k]


class BagOfWordsEmbedder(Embedder):
    """A deterministic stand-in for MiniLM: hashed word counts, normalised."""

    dimension = 64

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if len(word) > 3:
                    rows[i, sum(map(ord, word)) % self.dimension] += 1.0
            norm = math.sqrt(float((rows[i] ** 2).sum())) or 1.0
            rows[i] /= norm
        return rows


T = TypeVar("T")


@dataclass
class Reply:
    """One scripted completion: text (streamed in small deltas), tool calls as
    (name, raw arguments), a virtual delay before the first delta, or an error."""

    text: str = ""
    tools: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    pause_after_first_sentence: float = 0.0
    finish: str = ""
    error: Exception | None = None


def tool(name: str, **arguments: Any) -> tuple[str, str]:
    return name, json.dumps(arguments)


class ScriptedChatModel(ChatModel):
    """A chat model that plays a script and records every request it was sent."""

    def __init__(
        self,
        replies: list[Reply] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        model: str = "scripted",
    ) -> None:
        self.model = model
        self.replies = list(replies or [])
        self.by_schema: dict[str, list[Reply]] = {}  # JSON-schema name → its own script
        self.requests: list[ChatRequest] = []
        self.open_streams = 0  # requests not finished nor closed yet
        self._sleep = sleep or asyncio.sleep

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        self.requests.append(request)
        script = self.replies
        if request.json_schema is not None and request.json_schema.name in self.by_schema:
            script = self.by_schema[request.json_schema.name]
        reply = script.pop(0) if script else Reply("Okay.")
        self.open_streams += 1
        try:
            async for event in self._play(reply):
                yield event
        finally:
            self.open_streams -= 1

    async def _play(self, reply: Reply) -> AsyncIterator[ChatEvent]:
        if reply.delay:
            await self._sleep(reply.delay)
        if reply.error is not None:
            raise reply.error
        first_end = reply.text.find(". ") + 2 if reply.pause_after_first_sentence else -1
        for i in range(0, len(reply.text), 3):
            if first_end > 0 and i <= first_end < i + 3:
                yield TextDelta(reply.text[i:first_end])
                await self._sleep(reply.pause_after_first_sentence)
                yield TextDelta(reply.text[first_end : i + 3])
                continue
            yield TextDelta(reply.text[i : i + 3])
        if reply.tools:
            yield ToolCallsReady(
                tuple(
                    ModelToolCall(f"call_{n}_{len(self.requests)}", name, args)
                    for n, (name, args) in enumerate(reply.tools)
                )
            )
        yield Finished(reply.finish or ("tool_calls" if reply.tools else "stop"))


def provider_down() -> ModelError:
    return ModelError("scripted: endpoint answered 503")
