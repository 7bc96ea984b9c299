"""Dialer leases in the PostgreSQL store: renewals and the ending of orphaned calls.

Coroutines of a :class:`~switchboard_store.postgres_writes.Transaction`. Each call's
row is locked before it is judged, so a renewal, an ending and a sweep by another
replica take turns on one call; a sweep skips the calls another writer holds
(``SKIP LOCKED``) and finds them again next time. What a lease allows is
:mod:`~switchboard_store.write_rules`'; an orphan is ended by the very write that
ends any call, which queues its post-call job.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard_store import postgres_writes, write_rules
from switchboard_store.postgres_writes import Transaction

_UNFINISHED = "state NOT IN ('ended', 'failed') AND lease_owner <> ''"


async def renew(
    tx: Transaction, owner: str, call_ids: Sequence[str], lease_sec: float
) -> list[str]:
    # One statement locks them all, in a fixed order: two renewals cannot deadlock.
    found = await tx.conn.fetch(
        "SELECT * FROM calls WHERE call_id = ANY($1::text[]) ORDER BY call_id FOR UPDATE",
        list(call_ids),
    )
    renewed = []
    for row in found:
        lease = write_rules.renewed_lease(row, owner, lease_sec, tx.now)
        if lease is not None:
            await postgres_writes.write_lease(tx, row["call_id"], lease)
            renewed.append(row["call_id"])
    return renewed


async def end_orphans(tx: Transaction, owner: str, limit: int) -> list[tuple[str, str]]:
    if owner:
        candidates = await tx.conn.fetch(
            f"SELECT * FROM calls WHERE {_UNFINISHED} AND lease_owner = $1"
            " ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            owner,
            limit,
        )
    else:
        candidates = await tx.conn.fetch(
            f"SELECT * FROM calls WHERE {_UNFINISHED} AND lease_expires_at <= $1"
            " ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            tx.now,
            limit,
        )
    ended = []
    for row in candidates:
        if write_rules.orphaned(row, owner, tx.now):
            await postgres_writes.set_call_state(
                tx, row["call_id"], domain.CallState.ENDED, LINE_DROPPED
            )
            ended.append((row["call_id"], row["lease_owner"]))
    return ended
