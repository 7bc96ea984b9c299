"""The PostgreSQL store: calls, knowledge and events in one schema, over an asyncpg pool."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import asyncpg

from switchboard import domain
from switchboard.clock import Clock, SystemClock
from switchboard.errors import InvalidArgument
from switchboard.phones import parse_e164
from switchboard_store import postgres_db, postgres_reads, postgres_writes, validation, vectors
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.postgres_db import ConnectOptions
from switchboard_store.postgres_jobs import PostgresJobQueue
from switchboard_store.postgres_writes import Transaction
from switchboard_store.repository import (
    EVENT_PAGE,
    CallEvent,
    CallRepository,
    ClaimUpdateResult,
    DocumentChunk,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
VecRows = list[tuple[str, bytes]]


class PostgresCallRepository(CallRepository):
    """The store on PostgreSQL. Create it with :meth:`open`.

    A method returns after its transaction committed. Knowledge-base search is the
    same exact numpy search as on SQLite (pgvector is not packaged for PostgreSQL 15
    in Debian bookworm); the matrix is rebuilt when the documents change, here or in
    another replica.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self._pool = pool
        self._clock: Clock = clock or SystemClock()
        self._jobs = PostgresJobQueue(pool, self._clock, retry)
        self._index: vectors.VectorIndex | None = None
        self._index_version: tuple[int, datetime | None] | None = None
        self._documents_generation = 0
        self._closed = False

    @classmethod
    async def open(
        cls,
        options: ConnectOptions,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        migrate: bool = False,
    ) -> PostgresCallRepository:
        """Connects the pool; applies pending migrations when ``migrate``, else refuses to
        start on a schema that is not this release's."""
        applied = await postgres_db.migrate(options) if migrate else []
        pool = await postgres_db.create_pool(options)
        try:
            await postgres_db.check_current(pool, options.schema)
        except BaseException:
            await pool.close()
            raise
        log.info(
            "store database open",
            extra={"backend": "postgres", "schema": options.schema, "migrations_applied": applied},
        )
        return cls(pool, clock, retry)

    @property
    def jobs(self) -> PostgresJobQueue:
        return self._jobs

    async def close(self) -> None:
        self.notifier.close()
        if not self._closed:
            self._closed = True
            await self._pool.close()

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    async def _write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction and wakes the watchers of the calls it touched.

        The transaction runs in its own task and the wake-up hangs off that task: if the
        caller is cancelled while the commit is under way, the commit still happens and
        watchers still hear about it.
        """
        now = self._now()

        async def run() -> tuple[T, dict[str, int]]:
            async with self._pool.acquire() as conn, conn.transaction():
                tx = Transaction(conn, now)
                result = await work(tx)
            return result, tx.latest_events

        task = asyncio.ensure_future(run())
        task.add_done_callback(self._publish)
        try:
            result, _ = await asyncio.shield(task)
        except asyncpg.CharacterNotInRepertoireError as exc:
            raise InvalidArgument(
                "a text contains a NUL character, which the PostgreSQL store cannot keep there"
            ) from exc
        return result

    def _publish(self, task: asyncio.Future[tuple[T, dict[str, int]]]) -> None:
        if not task.cancelled() and task.exception() is None:
            self.notifier.publish(task.result()[1])

    async def _read(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Runs ``work`` in one read-only repeatable-read transaction: a consistent snapshot."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await work(conn)

    async def _read_one(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Runs ``work``, a single statement (its own snapshot), without a transaction block."""
        async with self._pool.acquire() as conn:
            return await work(conn)

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        request = validation.call_request(initiate)
        call_id = str(uuid.uuid4())
        call = await self._write(
            lambda tx: postgres_writes.insert_call(tx, call_id, request, direction)
        )
        log.info("call created", extra={"call_id": call_id, "direction": direction.value})
        return call

    async def get_call(self, call_id: str) -> domain.Call:
        cid = validation.call_id(call_id)
        return await self._read_one(lambda conn: postgres_reads.load_whole_call(conn, cid))

    async def list_calls(
        self, phone_number: str = "", limit: int = 100
    ) -> tuple[list[domain.Call], int]:
        number = parse_e164(phone_number) if phone_number.strip() else ""
        size = validation.list_limit(limit)
        return await self._read(lambda conn: postgres_reads.list_calls(conn, number, size))

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
        since = self._now() - timedelta(hours=hours)
        return await self._read_one(
            lambda conn: postgres_reads.find_open_call(conn, number, since, wanted)
        )

    async def set_call_state(
        self, call_id: str, state: domain.CallState, reason: str = ""
    ) -> domain.Call:
        cid = validation.call_id(call_id)
        validation.text(reason, "reason", validation.MAX_REASON)
        call = await self._write(lambda tx: postgres_writes.set_call_state(tx, cid, state, reason))
        log.info(
            "call state set", extra={"call_id": cid, "state": state.value, "attempt": call.attempt}
        )
        return call

    async def set_call_language(self, call_id: str, lang: str) -> domain.Call:
        cid = validation.call_id(call_id)
        if not lang:
            raise InvalidArgument("lang is required, e.g. fr-FR")
        validation.lang(lang)
        return await self._write(lambda tx: postgres_writes.set_call_language(tx, cid, lang))

    async def append_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]:
        cid = validation.call_id(call_id)
        validation.messages(messages, policy_state)
        return await self._write(
            lambda tx: postgres_writes.append_messages(tx, cid, messages, policy_state)
        )

    async def update_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]]
    ) -> ClaimUpdateResult:
        cid = validation.call_id(call_id)
        result = await self._write(lambda tx: postgres_writes.update_claim(tx, cid, updates))
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
        return await self._write(lambda tx: postgres_writes.upsert_reminder(tx, cid, clean))

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
            lambda tx: postgres_writes.save_synthesis(
                tx, cid, synthesis, next_action, sms_summary, job_id
            )
        )

    async def add_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        if len(chunks) > validation.MAX_CHUNKS_PER_REQUEST:
            raise InvalidArgument(f"at most {validation.MAX_CHUNKS_PER_REQUEST} chunks per request")
        if not chunks:
            return 0
        try:
            added = await self._write(lambda tx: postgres_writes.add_documents(tx, chunks))
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
        ids = [chunk_id for chunk_id, _ in best]
        found = await self._read(lambda conn: postgres_reads.documents(conn, ids))
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
        generation = self._documents_generation
        version = await self._read(postgres_reads.documents_version)
        if self._index is not None and version == self._index_version:
            return self._index

        async def load(conn: asyncpg.Connection) -> tuple[tuple[int, datetime | None], VecRows]:
            return (
                await postgres_reads.documents_version(conn),
                await postgres_reads.document_vectors(conn),
            )

        loaded_version, found = await self._read(load)
        index = vectors.VectorIndex.build(found)
        if generation == self._documents_generation:
            self._index, self._index_version = index, loaded_version
        return index

    async def events_after(
        self, call_id: str, after_seq: int, limit: int = EVENT_PAGE
    ) -> list[CallEvent]:
        cid = validation.call_id(call_id)
        return await self._read(
            lambda conn: postgres_reads.events_after(conn, cid, after_seq, limit)
        )
