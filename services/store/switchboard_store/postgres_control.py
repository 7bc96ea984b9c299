"""Idempotency keys and call webhooks on PostgreSQL (the rules are in :mod:`control_records`).

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
from switchboard_store import control_records, postgres_reads, postgres_writes, validation
from switchboard_store.control_records import ControlRecords

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


def _record(row: asyncpg.Record, fresh: bool) -> IdempotencyRecord:
    return IdempotencyRecord(
        client=row["client"],
        key=row["key"],
        request_hash=row["request_hash"],
        call_id=row["call_id"],
        created_at=row["created_at"],
        fresh=fresh,
    )


_KEY_ROW = "SELECT * FROM idempotency_keys WHERE client = $1 AND key = $2"


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
        return _record(inserted, fresh=True)
    row = await tx.conn.fetchrow(_KEY_ROW, client, key)
    if row is None:  # released by the first request between our insert and this read
        raise NotFound("the idempotency key was released meanwhile; send the request again")
    return _record(row, fresh=False)


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
    return _record(row, fresh=False)


async def _set_webhook(tx: Transaction, webhook: CallWebhook) -> CallWebhook:
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
    if domain.CallState(call["state"]).is_terminal:
        post_call = post_call_job_id(webhook.call_id, call["attempt"])
        queued = await tx.conn.fetchval("SELECT 1 FROM jobs WHERE job_id = $1", post_call)
        if control_records.report_complete(
            webhook.call_id, call["attempt"], queued is not None, call["synthesis_job"]
        ):
            await queue_webhook(tx, webhook.call_id)
    return webhook


class PostgresControlRecords(ControlRecords):
    """The records in the store's PostgreSQL schema, written through the repository."""

    def __init__(self, pool: asyncpg.Pool, write: Writer) -> None:
        self._pool = pool
        self._run = write

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str, expire_after_sec: float = 0.0
    ) -> IdempotencyRecord:
        ttl = control_records.check_claim(client, key, request_hash, expire_after_sec)
        return await self._run(lambda tx: _claim(tx, client, key, request_hash, ttl))

    async def settle_idempotency_key(
        self, client: str, key: str, call_id: str
    ) -> IdempotencyRecord:
        control_records.check_key(client, key)
        canonical = validation.call_id(call_id)
        return await self._run(lambda tx: _settle(tx, client, key, canonical))

    async def release_idempotency_key(self, client: str, key: str) -> bool:
        control_records.check_key(client, key)

        async def release(tx: Transaction) -> bool:
            deleted = await tx.conn.fetchval(
                "WITH gone AS (DELETE FROM idempotency_keys"
                " WHERE client = $1 AND key = $2 AND call_id = '' RETURNING 1)"
                " SELECT count(*) FROM gone",
                client,
                key,
            )
            return bool(deleted)

        return await self._run(release)

    async def set_call_webhook(self, webhook: CallWebhook) -> CallWebhook:
        checked = control_records.check_webhook(webhook)
        return await self._run(lambda tx: _set_webhook(tx, checked))

    async def get_call_webhook(self, call_id: str) -> CallWebhook:
        canonical = validation.call_id(call_id)
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM call_webhooks WHERE call_id = $1", canonical)
        if row is None:
            raise NotFound(f"call {canonical} has no webhook")
        return CallWebhook(call_id=row["call_id"], url=row["url"], client=row["client"])
