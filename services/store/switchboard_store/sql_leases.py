"""Dialer leases in the SQL stores: the query and the decisions both dialects share.

:mod:`~switchboard_store.sqlite_leases` and :mod:`~switchboard_store.postgres_leases`
only read the rows (with their own placeholders and row locks) and write what is
decided here: which leases a renewal writes, which candidates a sweep ends. What a lease
allows is :mod:`~switchboard_store.write_rules`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from switchboard_store import write_rules
from switchboard_store.rows import Row
from switchboard_store.write_rules import LeaseWrite

R = TypeVar("R", bound=Row)

_UNFINISHED = "state NOT IN ('ended', 'failed') AND lease_owner <> ''"


def orphan_candidates_query(owner: str, marks: tuple[str, str], lock: str = "") -> str:
    """The sweep's candidates, soonest expiry first: the calls leased by ``owner`` or,
    without it, whose lease expired; the first parameter is ``owner`` (or now), the
    second the limit. ``marks`` are the dialect's two placeholders, ``lock`` its row lock."""
    first, limit = marks
    which = f"lease_owner = {first}" if owner else f"lease_expires_at <= {first}"
    return (
        f"SELECT * FROM calls WHERE {_UNFINISHED} AND {which}"
        f" ORDER BY lease_expires_at LIMIT {limit}{lock}"
    )


def renewals(
    found: Iterable[Row], owner: str, lease_sec: float, now: datetime
) -> list[tuple[str, LeaseWrite]]:
    """The renewed lease of each found call ``owner`` still runs (the others are lost)."""
    renewed = []
    for row in found:
        lease = write_rules.renewed_lease(row, owner, lease_sec, now)
        if lease is not None:
            renewed.append((str(row["call_id"]), lease))
    return renewed


def orphans(candidates: Iterable[R], owner: str, now: datetime) -> list[R]:
    """The candidates that are orphans, to be ended as ``line_dropped`` (each candidate
    read in the sweep's transaction, so still current)."""
    return [row for row in candidates if write_rules.orphaned(row, owner, now)]
