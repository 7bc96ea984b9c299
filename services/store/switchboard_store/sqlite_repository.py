"""The embedded default store: one SQLite file, migrated at startup."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from switchboard import domain, telemetry
from switchboard.call_leases import CallLease
from switchboard.clock import Clock
from switchboard_store import rows, sqlite_leases, sqlite_reads, sqlite_writes, vectors
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import CallEvent, ClaimUpdateResult, DocumentChunk
from switchboard_store.sqlite_control import SqliteControlRecords
from switchboard_store.sqlite_db import SqliteDatabase
from switchboard_store.sqlite_jobs import SqliteJobQueue
from switchboard_store.sqlite_writes import Transaction
from switchboard_store.stored_repository import StoredCallRepository

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteCallRepository(StoredCallRepository):
    """Calls, knowledge and events in one SQLite file (WAL, ``synchronous=FULL``).

    Create it with :meth:`open`, which applies pending schema migrations.
    """

    def __init__(
        self, path: Path, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> None:
        super().__init__(clock)
        self._db = SqliteDatabase(path)
        self._jobs = SqliteJobQueue(self._db, self._clock, retry)
        self._control = SqliteControlRecords(self._db, self._write)

    @classmethod
    async def open(
        cls, path: Path | str, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> SqliteCallRepository:
        repo = cls(Path(path), clock, retry)
        applied = await repo._db.open()
        log.info("store database open", extra={"path": str(path), "migrations_applied": applied})
        return repo

    async def _disconnect(self) -> None:
        await self._db.close()

    async def _write(self, work: Callable[[Transaction], T]) -> T:
        """Runs ``work`` in one write transaction; the watchers of the calls it touched are
        woken after the commit (:meth:`_committed`, off the database future)."""
        now = self._clock.now()
        with telemetry.span("store.write", {"store.backend": "sqlite"}):
            traceparent = telemetry.current_traceparent()

            def run(conn: sqlite3.Connection) -> tuple[T, dict[str, int]]:
                tx = Transaction(conn, now, traceparent)
                return work(tx), tx.latest_events

            return await self._committed(self._db.write(run))

    async def _store_call(
        self, call_id: str, request: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        return await self._write(
            lambda tx: sqlite_writes.insert_call(tx, call_id, request, direction)
        )

    async def _load_call(self, call_id: str) -> domain.Call:
        return await self._db.read(lambda conn: sqlite_reads.load_call(conn, call_id))

    async def _load_calls(
        self, number: str, limit: int, states: Sequence[domain.CallState], offset: int
    ) -> tuple[list[domain.Call], int]:
        return await self._db.read(
            lambda conn: sqlite_reads.list_calls(conn, number, limit, states, offset)
        )

    async def _load_open_call(
        self, number: str, since: datetime, wanted: str | None
    ) -> domain.Call | None:
        stamp = rows.stamp(since)
        return await self._db.read(
            lambda conn: sqlite_reads.find_open_call(conn, number, stamp, wanted)
        )

    async def _store_call_state(
        self, call_id: str, state: domain.CallState, reason: str, lease: CallLease | None
    ) -> domain.Call:
        return await self._write(
            lambda tx: sqlite_writes.set_call_state(tx, call_id, state, reason, lease)
        )

    async def _store_lease_renewals(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        return await self._write(lambda tx: sqlite_leases.renew(tx, owner, call_ids, lease_sec))

    async def _store_orphan_endings(self, owner: str, limit: int) -> list[tuple[str, str]]:
        return await self._write(lambda tx: sqlite_leases.end_orphans(tx, owner, limit))

    async def _store_call_language(self, call_id: str, lang: str) -> domain.Call:
        return await self._write(lambda tx: sqlite_writes.set_call_language(tx, call_id, lang))

    async def _store_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None
    ) -> list[domain.Message]:
        return await self._write(
            lambda tx: sqlite_writes.append_messages(tx, call_id, messages, policy_state)
        )

    async def _store_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]], messages: Sequence[domain.Message]
    ) -> ClaimUpdateResult:
        return await self._write(
            lambda tx: sqlite_writes.update_claim(tx, call_id, updates, messages)
        )

    async def _store_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
        return await self._write(lambda tx: sqlite_writes.upsert_reminder(tx, call_id, reminder))

    async def _store_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str,
        job_id: str,
    ) -> domain.Call:
        return await self._write(
            lambda tx: sqlite_writes.save_synthesis(
                tx, call_id, synthesis, next_action, sms_summary, job_id
            )
        )

    async def _store_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        return await self._write(lambda tx: sqlite_writes.add_documents(tx, chunks))

    async def _load_documents(self, ids: Sequence[str]) -> Mapping[str, Any]:
        return await self._db.read(lambda conn: sqlite_reads.documents(conn, ids))

    async def _load_vector_index(self) -> vectors.VectorIndex:
        # Only this process writes the file, so the index stays valid until add_documents.
        if self._index is not None:
            return self._index
        generation = self._documents_generation
        index = vectors.VectorIndex.build(await self._db.read(sqlite_reads.document_vectors))
        if generation == self._documents_generation:
            self._index = index
        return index

    async def _load_events(self, call_id: str, after_seq: int, limit: int) -> list[CallEvent]:
        return await self._db.read(
            lambda conn: sqlite_reads.events_after(conn, call_id, after_seq, limit)
        )
