"""Dialer leases in the PostgreSQL store: renewals and the ending of orphaned calls.

Coroutines of a :class:`~switchboard_store.postgres_writes.Transaction`. Each call's
row is locked before it is judged, so a renewal, an ending and a sweep by another
replica take turns on one call; a sweep skips the calls another writer holds
(``SKIP LOCKED``) and finds them again next time. The query and the decisions are
:mod:`~switchboard_store.sql_leases`'; an orphan is ended by the very write that ends
any call, which queues its post-call job.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard_store import postgres_writes, sql_leases
from switchboard_store.postgres_writes import Transaction


async def renew(
    tx: Transaction, owner: str, call_ids: Sequence[str], lease_sec: float
) -> list[str]:
    # One statement locks them all, in a fixed order: two renewals cannot deadlock.
    found = await tx.conn.fetch(
        "SELECT * FROM calls WHERE call_id = ANY($1::text[]) ORDER BY call_id FOR UPDATE",
        list(call_ids),
    )
    renewals = sql_leases.renewals(found, owner, lease_sec, tx.now)
    for call_id, lease in renewals:
        await postgres_writes.write_lease(tx, call_id, lease)
    return [call_id for call_id, _ in renewals]


async def end_orphans(tx: Transaction, owner: str, limit: int) -> list[tuple[str, str]]:
    candidates = await tx.conn.fetch(
        sql_leases.orphan_candidates_query(owner, ("$1", "$2"), " FOR UPDATE SKIP LOCKED"),
        owner or tx.now,
        limit,
    )
    ended = sql_leases.orphans(candidates, owner, tx.now)
    for row in ended:
        await postgres_writes.set_call_state(
            tx, row["call_id"], domain.CallState.ENDED, LINE_DROPPED
        )
    return [(row["call_id"], row["lease_owner"]) for row in ended]
