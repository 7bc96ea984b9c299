"""Idempotency keys and call webhooks on PostgreSQL: the storage hooks of
:class:`~switchboard_store.control_records.ControlRecords` (checks and rules are there).

:func:`queue_webhook` runs inside the writes that complete a call's report
(:mod:`~switchboard_store.postgres_writes`), so the webhook job commits with them. A
claim of a key is one ``INSERT … ON CONFLICT DO NOTHING``: of concurrent requests with
the same key exactly one inserts, and only that one dials.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, TypeVar

import asyncpg

from switchboard import domain
from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.errors import NotFound
from switchboard.jobs import WEBHOOK, post_call_job_id, webhook_job_id
from switchboard_store import postgres_reads, postgres_writes
from switchboard_store.control_records import ControlRecords, record, webhook_due

if TYPE_CHECKING:
    from switchboard_store.postgres_writes import Transaction

T = TypeVar("T")


class Writer(Protocol):
    """The repository's write: ``work`` in one transaction, watchers woken after commit."""

    def __call__(self, work: Callable[[Transaction], Awaitable[T]]) -> Awaitable[T]: ...


async def queue_webhook(tx: Transaction, call_id: str) -> None:
    """Queues the call's webhook job if it has a webhook and has ended (idempotent)."""
    row = await tx.conn.fetchrow(
        "SELECT c.state, c.attempt FROM calls c JOIN call_webhooks w ON w.call_id = c.call_id"
        " WHERE c.call_id = $1",
        call_id,
    )
    if row is None or not domain.CallState(row["state"]).is_terminal:
        return
    await postgres_writes.queue_job(tx, WEBHOOK, call_id, webhook_job_id(call_id, row["attempt"]))


async def _claim(
    tx: Transaction, client: str, key: str, request_hash: str, ttl: float
) -> IdempotencyRecord:
    await tx.conn.execute(
        "DELETE FROM idempotency_keys WHERE client = $1 AND key = $2 AND created_at < $3",
        client,
        key,
        tx.now - timedelta(seconds=ttl),
    )
    inserted = await tx.conn.fetchrow(
        "INSERT INTO idempotency_keys (client, key, request_hash, created_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (client, key) DO NOTHING RETURNING *",
        client,
        key,
        request_hash,
        tx.now,
    )
    if inserted is not None:
        return record(inserted, fresh=True)
    row = await tx.conn.fetchrow(
        "SELECT * FROM idempotency_keys WHERE client = $1 AND key = $2", client, key
    )
    if row is None:  # released by the first request between our insert and this read
        raise NotFound("the idempotency key was released meanwhile; send the request again")
    return record(row, fresh=False)


async def _settle(tx: Transaction, client: str, key: str, call_id: str) -> IdempotencyRecord:
    await postgres_reads.call_row(tx.conn, call_id)  # NotFound for an unknown call
    row = await tx.conn.fetchrow(
        "UPDATE idempotency_keys SET call_id = $3 WHERE client = $1 AND key = $2 RETURNING *",
        client,
        key,
        call_id,
    )
    if row is None:
        raise NotFound("no such idempotency key (it expired or was released)")
    return record(row, fresh=False)


async def _release(tx: Transaction, client: str, key: str) -> bool:
    deleted = await tx.conn.fetchval(
        "WITH gone AS (DELETE FROM idempotency_keys"
        " WHERE client = $1 AND key = $2 AND call_id = '' RETURNING 1)"
        " SELECT count(*) FROM gone",
        client,
        key,
    )
    return bool(deleted)


async def _set_webhook(tx: Transaction, webhook: CallWebhook) -> None:
    call = await postgres_reads.call_row(tx.conn, webhook.call_id, for_update=True)
    await tx.conn.execute(
        "INSERT INTO call_webhooks (call_id, url, client, updated_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (call_id) DO UPDATE SET url = excluded.url, client = excluded.client,"
        " updated_at = excluded.updated_at",
        webhook.call_id,
        webhook.url,
        webhook.client,
        tx.now,
    )
    post_call = post_call_job_id(webhook.call_id, call["attempt"])
    queued = await tx.conn.fetchval("SELECT 1 FROM jobs WHERE job_id = $1", post_call)
    if webhook_due(call, queued is not None):
        await queue_webhook(tx, webhook.call_id)


class PostgresControlRecords(ControlRecords):
    """The records in the store's PostgreSQL schema, written through the repository."""

    def __init__(self, pool: asyncpg.Pool, write: Writer) -> None:
        self._pool = pool
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
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM call_webhooks WHERE call_id = $1", call_id)
        if row is None:
            return None
        return CallWebhook(call_id=row["call_id"], url=row["url"], client=row["client"])
