"""Dialer leases in the SQLite store: renewals and the ending of orphaned calls.

Plain functions of a :class:`~switchboard_store.sqlite_writes.Transaction`, run on the
writer (so every row read here is current until the commit). What a lease allows is
:mod:`~switchboard_store.write_rules`'; an orphan is ended by the very write that
ends any call, which queues its post-call job.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard_store import rows, sqlite_writes, write_rules
from switchboard_store.sqlite_writes import Transaction

_UNFINISHED = "state NOT IN ('ended', 'failed') AND lease_owner <> ''"


def renew(tx: Transaction, owner: str, call_ids: Sequence[str], lease_sec: float) -> list[str]:
    now = rows.parse_stamp_required(tx.now)
    renewed = []
    for call_id in call_ids:
        row = tx.conn.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        lease = write_rules.renewed_lease(row, owner, lease_sec, now) if row else None
        if lease is not None:
            sqlite_writes.write_lease(tx, call_id, lease)
            renewed.append(call_id)
    return renewed


def end_orphans(tx: Transaction, owner: str, limit: int) -> list[tuple[str, str]]:
    now = rows.parse_stamp_required(tx.now)
    if owner:
        candidates = tx.conn.execute(
            f"SELECT * FROM calls WHERE {_UNFINISHED} AND lease_owner = ?"
            " ORDER BY lease_expires_at LIMIT ?",
            (owner, limit),
        ).fetchall()
    else:
        candidates = tx.conn.execute(
            f"SELECT * FROM calls WHERE {_UNFINISHED} AND lease_expires_at <= ?"
            " ORDER BY lease_expires_at LIMIT ?",
            (tx.now, limit),
        ).fetchall()
    ended = []
    for row in candidates:
        if write_rules.orphaned(row, owner, now):
            sqlite_writes.set_call_state(tx, row["call_id"], domain.CallState.ENDED, LINE_DROPPED)
            ended.append((row["call_id"], row["lease_owner"]))
    return ended
