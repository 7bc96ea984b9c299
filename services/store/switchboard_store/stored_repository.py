"""The repository logic every backend shares: validation, logging, search, closing.

:class:`StoredCallRepository` implements every :class:`CallRepository` method once. It
checks the input, calls one backend hook per operation (storage only: the ``_store_*``
and ``_load_*`` methods that ``SqliteCallRepository``, ``PostgresCallRepository`` and
``CosmosCallRepository`` implement) and logs the outcome, so the backends behave the
same by construction.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED, CallLease
from switchboard.clock import Clock, SystemClock
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164
from switchboard_store import validation, vectors
from switchboard_store.control_records import ControlRecords
from switchboard_store.job_queue import JobQueue
from switchboard_store.repository import (
    EVENT_PAGE,
    CallEvent,
    CallRepository,
    ClaimUpdateResult,
    DocumentChunk,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class StoredCallRepository(CallRepository):
    """A :class:`CallRepository` over a backend that implements the storage hooks.

    A write hook runs in one transaction and returns after it committed (waking the
    call's watchers); a read hook reads one consistent snapshot. The hooks get input
    that is already validated. A backend sets ``_jobs`` and ``_control`` when it is
    constructed.
    """

    _jobs: JobQueue
    _control: ControlRecords

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__()
        self._clock: Clock = clock or SystemClock()
        # The knowledge base as a matrix, rebuilt on the first search after a change.
        self._index: vectors.VectorIndex | None = None
        self._documents_generation = 0
        self._closed = False

    @property
    def jobs(self) -> JobQueue:
        return self._jobs

    @property
    def control(self) -> ControlRecords:
        return self._control

    async def close(self) -> None:
        self.notifier.close()
        if not self._closed:
            self._closed = True
            await self._disconnect()

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    async def _committed(self, write: Awaitable[tuple[T, Mapping[str, int]]]) -> T:
        """The result of ``write``, a write under way that also yields the newest event
        seq of each call it touched. The write goes on in a task (or future) of its own and
        wakes those calls' watchers once it committed: if the caller is cancelled while
        the commit is under way, the commit still happens and watchers still hear of it."""
        done = asyncio.ensure_future(write)
        done.add_done_callback(self._publish)
        result, _ = await asyncio.shield(done)
        return result

    def _publish(self, done: asyncio.Future[tuple[Any, Mapping[str, int]]]) -> None:
        if not done.cancelled() and done.exception() is None:
            self.notifier.publish(done.result()[1])

    @abstractmethod
    async def _disconnect(self) -> None:
        """Releases the database (called once, by :meth:`close`)."""

    # The storage hooks: one per operation, each a backend's SQL only.

    @abstractmethod
    async def _store_call(
        self, call_id: str, request: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call: ...

    @abstractmethod
    async def _load_call(self, call_id: str) -> domain.Call: ...

    @abstractmethod
    async def _load_calls(
        self, number: str, limit: int, states: Sequence[domain.CallState], offset: int
    ) -> tuple[list[domain.Call], int]: ...

    @abstractmethod
    async def _load_open_call(
        self, number: str, since: datetime, wanted: str | None
    ) -> domain.Call | None:
        """The newest resumable call of ``number`` created at ``since`` or later; if
        ``wanted`` is set, only one whose request has that canonical JSON."""

    @abstractmethod
    async def _store_call_state(
        self, call_id: str, state: domain.CallState, reason: str, lease: CallLease | None
    ) -> domain.Call: ...

    @abstractmethod
    async def _store_lease_renewals(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        """In one transaction: each call's row (locked), :func:`write_rules.renewed_lease`,
        the renewed lease written; the ids renewed."""

    @abstractmethod
    async def _store_orphan_endings(self, owner: str, limit: int) -> list[tuple[str, str]]:
        """In one transaction: up to ``limit`` candidate calls (leased by ``owner``, or
        with an expired lease), each locked and checked with :func:`write_rules.orphaned`,
        then ended with the backend's ``set_call_state`` write (reason ``line_dropped``);
        each call ended with the replica that held it."""

    @abstractmethod
    async def _store_call_language(self, call_id: str, lang: str) -> domain.Call: ...

    @abstractmethod
    async def _store_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None
    ) -> list[domain.Message]: ...

    @abstractmethod
    async def _store_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]], messages: Sequence[domain.Message]
    ) -> ClaimUpdateResult: ...

    @abstractmethod
    async def _store_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder: ...

    @abstractmethod
    async def _store_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str,
        job_id: str,
    ) -> domain.Call: ...

    @abstractmethod
    async def _store_documents(self, chunks: Sequence[DocumentChunk]) -> int: ...

    @abstractmethod
    async def _load_documents(self, ids: Sequence[str]) -> Mapping[str, Any]:
        """The stored chunks among ``ids``, by id; each row has source, title and content."""

    @abstractmethod
    async def _load_vector_index(self) -> vectors.VectorIndex:
        """The knowledge base as a matrix; the backend decides when to reuse ``self._index``."""

    @abstractmethod
    async def _load_events(self, call_id: str, after_seq: int, limit: int) -> list[CallEvent]: ...

    # The repository contract, implemented once.

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        request = validation.call_request(initiate, direction)
        call_id = str(uuid.uuid4())
        call = await self._store_call(call_id, request, direction)
        log.info("call created", extra={"call_id": call_id, "direction": direction.value})
        return call

    async def get_call(self, call_id: str) -> domain.Call:
        return await self._load_call(validation.call_id(call_id))

    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[domain.CallState] = (),
        offset: int = 0,
    ) -> tuple[list[domain.Call], int]:
        number = parse_e164(phone_number) if phone_number.strip() else ""
        wanted = sorted(set(states))  # one order: the same filter is the same query
        return await self._load_calls(
            number, validation.list_limit(limit), wanted, validation.list_offset(offset)
        )

    async def find_open_call(
        self,
        phone_number: str,
        within_hours: float,
        initiate: domain.CallRequest | None = None,
    ) -> domain.Call | None:
        number = parse_e164(phone_number)
        hours = validation.window_hours(within_hours)
        if hours == 0:
            return None
        wanted = validation.canonical_json(validation.call_request(initiate)) if initiate else None
        since = self._clock.now() - timedelta(hours=hours)
        return await self._load_open_call(number, since, wanted)

    async def set_call_state(
        self,
        call_id: str,
        state: domain.CallState,
        reason: str = "",
        lease: CallLease | None = None,
    ) -> domain.Call:
        cid = validation.call_id(call_id)
        validation.text(reason, "reason", validation.MAX_REASON)
        if lease is not None:
            validation.call_lease(lease)
        call = await self._store_call_state(cid, state, reason, lease)
        log.info(
            "call state set",
            extra={
                "call_id": cid,
                "state": state.value,
                "attempt": call.attempt,
                "lease_owner": lease.owner if lease is not None else None,
            },
        )
        return call

    async def renew_call_leases(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        validation.text(owner, "owner", required=True)
        validation.lease_sec(lease_sec)
        ids = validation.call_ids(call_ids)
        if not ids:
            return []
        renewed = await self._store_lease_renewals(owner, ids, lease_sec)
        lost = [i for i in ids if i not in set(renewed)]
        if lost:
            log.warning("call leases lost", extra={"owner": owner, "call_ids": lost})
        return renewed

    async def end_orphaned_calls(self, owner: str = "", limit: int = 100) -> list[str]:
        validation.text(owner, "owner")
        ended = await self._store_orphan_endings(owner, validation.orphan_limit(limit))
        for call_id, held_by in ended:
            log.warning(
                "call ended: its dialer replica is gone",
                extra={
                    "call_id": call_id,
                    "reason": LINE_DROPPED,
                    "how": "replica_restarted" if owner else "lease_expired",
                    "lease_owner": held_by,
                },
            )
        return [call_id for call_id, _ in ended]

    async def set_call_language(self, call_id: str, lang: str) -> domain.Call:
        cid = validation.call_id(call_id)
        if not lang:
            raise InvalidArgument("lang is required, e.g. fr-FR")
        validation.lang(lang)
        return await self._store_call_language(cid, lang)

    async def append_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]:
        cid = validation.call_id(call_id)
        validation.messages(messages, policy_state)
        return await self._store_messages(cid, messages, policy_state)

    async def update_claim(
        self,
        call_id: str,
        updates: Sequence[tuple[str, str]],
        messages: Sequence[domain.Message] = (),
    ) -> ClaimUpdateResult:
        cid = validation.call_id(call_id)
        validation.messages(messages, None)
        result = await self._store_claim(cid, updates, messages)
        log.info(
            "claim updated",
            extra={
                "call_id": cid,
                "fields": [c.field for c in result.applied],
                "pii_values": [c.value for c in result.applied],
            },
        )
        return result

    async def upsert_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
        cid = validation.call_id(call_id)
        return await self._store_reminder(cid, validation.reminder(reminder))

    async def save_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str = "",
        job_id: str = "",
    ) -> domain.Call:
        cid = validation.call_id(call_id)
        validation.synthesis(synthesis, next_action, sms_summary)
        validation.text(job_id, "job_id")
        return await self._store_synthesis(cid, synthesis, next_action, sms_summary, job_id)

    async def add_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        if len(chunks) > validation.MAX_CHUNKS_PER_REQUEST:
            raise InvalidArgument(f"at most {validation.MAX_CHUNKS_PER_REQUEST} chunks per request")
        if not chunks:
            return 0
        try:
            added = await self._store_documents(chunks)
        finally:
            self._documents_generation += 1
            self._index = None
        log.info("documents added", extra={"count": added})
        return added

    async def search_documents(
        self, embedding: Sequence[float], top_k: int = 5, min_score: float = 0.0
    ) -> list[domain.ChunkHit]:
        k = validation.top_k(top_k)
        floor = validation.min_score(min_score)
        query = vectors.normalised(embedding, "embedding")
        index = await self._load_vector_index()
        if not index.ids:
            return []
        if len(query) != index.dimension:
            raise InvalidArgument(
                f"embedding has {len(query)} dimensions; the knowledge base uses {index.dimension}"
            )
        best = index.top(query, k, floor)
        found = await self._load_documents([chunk_id for chunk_id, _ in best])
        return [
            domain.ChunkHit(
                id=chunk_id,
                source=found[chunk_id]["source"],
                title=found[chunk_id]["title"],
                content=found[chunk_id]["content"],
                score=score,
            )
            for chunk_id, score in best
            if chunk_id in found  # replaced between the two reads: skip, never fail
        ]

    async def events_after(
        self, call_id: str, after_seq: int, limit: int = EVENT_PAGE
    ) -> list[CallEvent]:
        return await self._load_events(validation.call_id(call_id), after_seq, limit)
