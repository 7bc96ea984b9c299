"""Dialer leases in the SQLite store: renewals and the ending of orphaned calls.

Plain functions of a :class:`~switchboard_store.sqlite_writes.Transaction`, run on the
writer (so every row read here is current until the commit). The query and the
decisions are :mod:`~switchboard_store.sql_leases`'; an orphan is ended by the very
write that ends any call, which queues its post-call job.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard_store import rows, sql_leases, sqlite_writes
from switchboard_store.sqlite_writes import Transaction


def renew(tx: Transaction, owner: str, call_ids: Sequence[str], lease_sec: float) -> list[str]:
    read = [
        tx.conn.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        for call_id in call_ids
    ]
    found = [row for row in read if row is not None]  # an unknown call is lost
    renewals = sql_leases.renewals(found, owner, lease_sec, rows.parse_stamp_required(tx.now))
    for call_id, lease in renewals:
        sqlite_writes.write_lease(tx, call_id, lease)
    return [call_id for call_id, _ in renewals]


def end_orphans(tx: Transaction, owner: str, limit: int) -> list[tuple[str, str]]:
    candidates = tx.conn.execute(
        sql_leases.orphan_candidates_query(owner, ("?", "?")), (owner or tx.now, limit)
    ).fetchall()
    ended = sql_leases.orphans(candidates, owner, rows.parse_stamp_required(tx.now))
    for row in ended:
        sqlite_writes.set_call_state(tx, row["call_id"], domain.CallState.ENDED, LINE_DROPPED)
    return [(row["call_id"], row["lease_owner"]) for row in ended]
