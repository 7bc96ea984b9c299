"""The PostgreSQL store: calls, knowledge and events in one schema, over an asyncpg pool."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from switchboard import domain, telemetry
from switchboard.call_leases import CallLease
from switchboard.clock import Clock
from switchboard.errors import InvalidArgument
from switchboard_store import postgres_db, postgres_leases, postgres_reads, postgres_writes, vectors
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.postgres_control import PostgresControlRecords
from switchboard_store.postgres_db import ConnectOptions
from switchboard_store.postgres_jobs import PostgresJobQueue
from switchboard_store.postgres_writes import Transaction
from switchboard_store.repository import CallEvent, ClaimUpdateResult, DocumentChunk
from switchboard_store.stored_repository import StoredCallRepository

log = logging.getLogger(__name__)

T = TypeVar("T")
VecRows = list[tuple[str, bytes]]


class PostgresCallRepository(StoredCallRepository):
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
        super().__init__(clock)
        self._pool = pool
        self._jobs = PostgresJobQueue(pool, self._clock, retry)
        self._control = PostgresControlRecords(pool, self._write)
        self._index_version: tuple[int, datetime | None] | None = None

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

    async def _disconnect(self) -> None:
        await self._pool.close()

    async def _write(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction; the watchers of the calls it touched are woken
        after the commit (:meth:`_committed`, off the transaction's own task)."""
        now = self._now()
        with telemetry.span("store.write", {"store.backend": "postgres"}):
            traceparent = telemetry.current_traceparent()

            async def run() -> tuple[T, dict[str, int]]:
                async with self._pool.acquire() as conn, conn.transaction():
                    tx = Transaction(conn, now, traceparent)
                    result = await work(tx)
                return result, tx.latest_events

            try:
                return await self._committed(run())
            except asyncpg.CharacterNotInRepertoireError as exc:
                raise InvalidArgument(
                    "a text contains a NUL character, which the PostgreSQL store cannot keep there"
                ) from exc

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

    async def _store_call(
        self, call_id: str, request: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        return await self._write(
            lambda tx: postgres_writes.insert_call(tx, call_id, request, direction)
        )

    async def _load_call(self, call_id: str) -> domain.Call:
        return await self._read_one(lambda conn: postgres_reads.load_whole_call(conn, call_id))

    async def _load_calls(
        self, number: str, limit: int, states: Sequence[domain.CallState], offset: int
    ) -> tuple[list[domain.Call], int]:
        return await self._read(
            lambda conn: postgres_reads.list_calls(conn, number, limit, states, offset)
        )

    async def _load_open_call(
        self, number: str, since: datetime, wanted: str | None
    ) -> domain.Call | None:
        since_utc = since.astimezone(UTC)
        return await self._read_one(
            lambda conn: postgres_reads.find_open_call(conn, number, since_utc, wanted)
        )

    async def _store_call_state(
        self, call_id: str, state: domain.CallState, reason: str, lease: CallLease | None
    ) -> domain.Call:
        return await self._write(
            lambda tx: postgres_writes.set_call_state(tx, call_id, state, reason, lease)
        )

    async def _store_lease_renewals(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        return await self._write(lambda tx: postgres_leases.renew(tx, owner, call_ids, lease_sec))

    async def _store_orphan_endings(self, owner: str, limit: int) -> list[tuple[str, str]]:
        return await self._write(lambda tx: postgres_leases.end_orphans(tx, owner, limit))

    async def _store_call_language(self, call_id: str, lang: str) -> domain.Call:
        return await self._write(lambda tx: postgres_writes.set_call_language(tx, call_id, lang))

    async def _store_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None
    ) -> list[domain.Message]:
        return await self._write(
            lambda tx: postgres_writes.append_messages(tx, call_id, messages, policy_state)
        )

    async def _store_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]], messages: Sequence[domain.Message]
    ) -> ClaimUpdateResult:
        return await self._write(
            lambda tx: postgres_writes.update_claim(tx, call_id, updates, messages)
        )

    async def _store_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
        return await self._write(lambda tx: postgres_writes.upsert_reminder(tx, call_id, reminder))

    async def _store_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str,
        job_id: str,
    ) -> domain.Call:
        return await self._write(
            lambda tx: postgres_writes.save_synthesis(
                tx, call_id, synthesis, next_action, sms_summary, job_id
            )
        )

    async def _store_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        return await self._write(lambda tx: postgres_writes.add_documents(tx, chunks))

    async def _load_documents(self, ids: Sequence[str]) -> Mapping[str, Any]:
        return await self._read(lambda conn: postgres_reads.documents(conn, ids))

    async def _load_vector_index(self) -> vectors.VectorIndex:
        # Another replica may have changed the documents: reuse the matrix only while
        # the stored version is the one it was built from.
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

    async def _load_events(self, call_id: str, after_seq: int, limit: int) -> list[CallEvent]:
        return await self._read(
            lambda conn: postgres_reads.events_after(conn, call_id, after_seq, limit)
        )
