"""The embedded default store: one SQLite file, migrated at startup."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from switchboard import domain, telemetry
from switchboard.clock import Clock, SystemClock
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164
from switchboard_store import rows, sqlite_reads, sqlite_writes, validation, vectors
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import (
    EVENT_PAGE,
    CallEvent,
    CallRepository,
    ClaimUpdateResult,
    DocumentChunk,
)
from switchboard_store.sqlite_db import SqliteDatabase
from switchboard_store.sqlite_jobs import SqliteJobQueue
from switchboard_store.sqlite_writes import Transaction

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteCallRepository(CallRepository):
    """Calls, knowledge and events in one SQLite file (WAL, ``synchronous=FULL``).

    Create it with :meth:`open`, which applies pending schema migrations.
    """

    def __init__(
        self, path: Path, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__()
        self._db = SqliteDatabase(path)
        self._clock: Clock = clock or SystemClock()
        self._jobs = SqliteJobQueue(self._db, self._clock, retry)
        # The knowledge base as a matrix, rebuilt on the first search after a change.
        self._index: vectors.VectorIndex | None = None
        self._documents_generation = 0

    @classmethod
    async def open(
        cls, path: Path | str, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> SqliteCallRepository:
        repo = cls(Path(path), clock, retry)
        applied = await repo._db.open()
        log.info("store database open", extra={"path": str(path), "migrations_applied": applied})
        return repo

    @property
    def jobs(self) -> SqliteJobQueue:
        return self._jobs

    async def close(self) -> None:
        self.notifier.close()
        await self._db.close()

    async def _write(self, work: Callable[[Transaction], T]) -> T:
        """Runs ``work`` in one write transaction and wakes the watchers of the calls it touched.

        The wake-up hangs off the database future, not this coroutine: if the caller is
        cancelled while the commit is under way, the commit still happens and watchers
        still hear about it.
        """
        now = self._clock.now()
        with telemetry.span("store.write", {"store.backend": "sqlite"}):
            traceparent = telemetry.current_traceparent()

            def run(conn: sqlite3.Connection) -> tuple[T, dict[str, int]]:
                tx = Transaction(conn, now, traceparent)
                return work(tx), tx.latest_events

            future = self._db.write(run)
            future.add_done_callback(self._publish)
            result, _ = await asyncio.shield(future)
        return result

    def _publish(self, future: asyncio.Future[tuple[T, dict[str, int]]]) -> None:
        if not future.cancelled() and future.exception() is None:
            self.notifier.publish(future.result()[1])

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        request = validation.call_request(initiate)
        call_id = str(uuid.uuid4())
        call = await self._write(
            lambda tx: sqlite_writes.insert_call(tx, call_id, request, direction)
        )
        log.info("call created", extra={"call_id": call_id, "direction": direction.value})
        return call

    async def get_call(self, call_id: str) -> domain.Call:
        cid = validation.call_id(call_id)
        return await self._db.read(lambda conn: sqlite_reads.load_call(conn, cid))

    async def list_calls(
        self, phone_number: str = "", limit: int = 100
    ) -> tuple[list[domain.Call], int]:
        number = parse_e164(phone_number) if phone_number.strip() else ""
        size = validation.list_limit(limit)
        return await self._db.read(lambda conn: sqlite_reads.list_calls(conn, number, size))

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
        since = rows.stamp(self._clock.now() - timedelta(hours=hours))
        return await self._db.read(
            lambda conn: sqlite_reads.find_open_call(conn, number, since, wanted)
        )

    async def set_call_state(
        self, call_id: str, state: domain.CallState, reason: str = ""
    ) -> domain.Call:
        cid = validation.call_id(call_id)
        validation.text(reason, "reason", validation.MAX_REASON)
        call = await self._write(lambda tx: sqlite_writes.set_call_state(tx, cid, state, reason))
        log.info(
            "call state set", extra={"call_id": cid, "state": state.value, "attempt": call.attempt}
        )
        return call

    async def set_call_language(self, call_id: str, lang: str) -> domain.Call:
        cid = validation.call_id(call_id)
        if not lang:
            raise InvalidArgument("lang is required, e.g. fr-FR")
        validation.lang(lang)
        return await self._write(lambda tx: sqlite_writes.set_call_language(tx, cid, lang))

    async def append_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]:
        cid = validation.call_id(call_id)
        validation.messages(messages, policy_state)
        return await self._write(
            lambda tx: sqlite_writes.append_messages(tx, cid, messages, policy_state)
        )

    async def update_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]]
    ) -> ClaimUpdateResult:
        cid = validation.call_id(call_id)
        result = await self._write(lambda tx: sqlite_writes.update_claim(tx, cid, updates))
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
        clean = validation.reminder(reminder)
        return await self._write(lambda tx: sqlite_writes.upsert_reminder(tx, cid, clean))

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
        return await self._write(
            lambda tx: sqlite_writes.save_synthesis(
                tx, cid, synthesis, next_action, sms_summary, job_id
            )
        )

    async def add_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        if len(chunks) > validation.MAX_CHUNKS_PER_REQUEST:
            raise InvalidArgument(f"at most {validation.MAX_CHUNKS_PER_REQUEST} chunks per request")
        if not chunks:
            return 0
        try:
            added = await self._write(lambda tx: sqlite_writes.add_documents(tx, chunks))
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
        index = await self._vector_index()
        if not index.ids:
            return []
        if len(query) != index.dimension:
            raise InvalidArgument(
                f"embedding has {len(query)} dimensions; the knowledge base uses {index.dimension}"
            )
        best = index.top(query, k, floor)
        found = await self._db.read(
            lambda conn: sqlite_reads.documents(conn, [chunk_id for chunk_id, _ in best])
        )
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

    async def _vector_index(self) -> vectors.VectorIndex:
        if self._index is not None:
            return self._index
        generation = self._documents_generation
        index = vectors.VectorIndex.build(await self._db.read(sqlite_reads.document_vectors))
        if generation == self._documents_generation:
            self._index = index
        return index

    async def events_after(
        self, call_id: str, after_seq: int, limit: int = EVENT_PAGE
    ) -> list[CallEvent]:
        cid = validation.call_id(call_id)
        return await self._db.read(
            lambda conn: sqlite_reads.events_after(conn, cid, after_seq, limit)
        )
