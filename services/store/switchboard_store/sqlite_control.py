"""Idempotency keys and call webhooks on SQLite: the storage hooks of
:class:`~switchboard_store.control_records.ControlRecords` (checks and rules are there).

:func:`queue_webhook` runs inside the writes that complete a call's report
(:mod:`~switchboard_store.sqlite_writes`), so the webhook job commits with them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

from switchboard import domain
from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.errors import NotFound
from switchboard.jobs import WEBHOOK, post_call_job_id, webhook_job_id
from switchboard_store import rows, sqlite_jobs, sqlite_reads
from switchboard_store.control_records import ControlRecords, record, webhook_due
from switchboard_store.sqlite_db import SqliteDatabase

if TYPE_CHECKING:
    from switchboard_store.sqlite_writes import Transaction

T = TypeVar("T")


class Writer(Protocol):
    """The repository's write: ``work`` in one transaction, watchers woken after commit."""

    def __call__(self, work: Callable[[Transaction], T]) -> Awaitable[T]: ...


def queue_webhook(tx: Transaction, call_id: str) -> None:
    """Queues the call's webhook job if it has a webhook and has ended (idempotent)."""
    row = tx.conn.execute(
        "SELECT c.state, c.attempt FROM calls c JOIN call_webhooks w ON w.call_id = c.call_id"
        " WHERE c.call_id = ?",
        (call_id,),
    ).fetchone()
    if row is None or not domain.CallState(row["state"]).is_terminal:
        return
    sqlite_jobs.queue_job(tx, WEBHOOK, call_id, webhook_job_id(call_id, row["attempt"]))


def _key_row(conn: sqlite3.Connection, client: str, key: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM idempotency_keys WHERE client = ? AND key = ?", (client, key)
    ).fetchone()
    return row


def _claim(
    tx: Transaction, client: str, key: str, request_hash: str, ttl: float
) -> IdempotencyRecord:
    cutoff = rows.stamp(rows.parse_stamp_required(tx.now) - timedelta(seconds=ttl))
    tx.conn.execute(
        "DELETE FROM idempotency_keys WHERE client = ? AND key = ? AND created_at < ?",
        (client, key, cutoff),
    )
    inserted = tx.conn.execute(
        "INSERT INTO idempotency_keys (client, key, request_hash, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (client, key) DO NOTHING",
        (client, key, request_hash, tx.now),
    ).rowcount
    row = _key_row(tx.conn, client, key)
    assert row is not None  # inserted or already there, in this transaction
    return record(row, fresh=inserted == 1)


def _settle(tx: Transaction, client: str, key: str, call_id: str) -> IdempotencyRecord:
    sqlite_reads.call_row(tx.conn, call_id)  # NotFound for an unknown call
    tx.conn.execute(
        "UPDATE idempotency_keys SET call_id = ? WHERE client = ? AND key = ?",
        (call_id, client, key),
    )
    row = _key_row(tx.conn, client, key)
    if row is None:
        raise NotFound("no such idempotency key (it expired or was released)")
    return record(row, fresh=False)


def _release(tx: Transaction, client: str, key: str) -> bool:
    return bool(
        tx.conn.execute(
            "DELETE FROM idempotency_keys WHERE client = ? AND key = ? AND call_id = ''",
            (client, key),
        ).rowcount
    )


def _set_webhook(tx: Transaction, webhook: CallWebhook) -> None:
    call = sqlite_reads.call_row(tx.conn, webhook.call_id)
    tx.conn.execute(
        "INSERT INTO call_webhooks (call_id, url, client, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (call_id) DO UPDATE SET url = excluded.url, client = excluded.client,"
        " updated_at = excluded.updated_at",
        (webhook.call_id, webhook.url, webhook.client, tx.now),
    )
    post_call = post_call_job_id(webhook.call_id, call["attempt"])
    queued = tx.conn.execute("SELECT 1 FROM jobs WHERE job_id = ?", (post_call,)).fetchone()
    if webhook_due(call, queued is not None):
        queue_webhook(tx, webhook.call_id)


def _webhook(conn: sqlite3.Connection, call_id: str) -> CallWebhook | None:
    row = conn.execute("SELECT * FROM call_webhooks WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        return None
    return CallWebhook(call_id=row["call_id"], url=row["url"], client=row["client"])


class SqliteControlRecords(ControlRecords):
    """The records in the store's SQLite file, written through the repository's writer."""

    def __init__(self, db: SqliteDatabase, write: Writer) -> None:
        self._db = db
        self._run = write

    async def _store_claim(
        self, client: str, key: str, request_hash: str, ttl: float
    ) -> IdempotencyRecord:
        return await self._run(lambda tx: _claim(tx, client, key, request_hash, ttl))

    async def _store_settlement(self, client: str, key: str, call_id: str) -> IdempotencyRecord:
        return await self._run(lambda tx: _settle(tx, client, key, call_id))

    async def _store_release(self, client: str, key: str) -> bool:
        return await self._run(lambda tx: _release(tx, client, key))

    async def _store_webhook(self, webhook: CallWebhook) -> None:
        await self._run(lambda tx: _set_webhook(tx, webhook))

    async def _load_webhook(self, call_id: str) -> CallWebhook | None:
        return await self._db.read(lambda conn: _webhook(conn, call_id))
