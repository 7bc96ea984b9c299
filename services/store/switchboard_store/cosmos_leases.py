"""Dialer leases on Cosmos DB: renewals and the ending of orphaned calls.

A call's lease is two fields of its call document (``lease_owner``, ``lease_expires_at``),
so taking, renewing and releasing it are changes to that document under its ETag, like
every write to a call: of two replicas (or two sweeps) acting on one call, the second
re-reads and decides again on what the first committed. What a lease allows is
:mod:`~switchboard_store.write_rules`'; an orphan is ended by the very change that ends
any call (:func:`cosmos_writes.set_call_state`), which queues its post-call job.

Finding orphans is a cross-partition query of ``calls`` (partitioned by call id): it
fans out to every physical partition, each answering from its index on the few leased,
unfinished call documents. A sweep every few seconds per dialer replica can afford
that; a ``leases`` container partitioned by owner would make it one partition, at the
price of a second write per state change outside the call's batch (and a gap between
them). The query has no ``ORDER BY`` or ``TOP`` (a gateway cannot serve those across
partitions): the candidates are ordered and cut to the limit here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED
from switchboard_store import cosmos_writes, rows, write_rules
from switchboard_store.cosmos_calls import CallChange
from switchboard_store.cosmos_db import Containers

_FINISHED = [s.value for s in domain.CallState if s.is_terminal]
_LEASED_UNFINISHED = (
    "SELECT c.call_id, c.lease_expires_at FROM c WHERE c.type = 'call'"
    " AND c.lease_owner != '' AND NOT ARRAY_CONTAINS(@finished, c.state)"
)


async def orphan_candidates(
    containers: Containers, owner: str, now: datetime, limit: int
) -> list[str]:
    """Up to ``limit`` calls leased by ``owner`` or, without it, whose lease expired at
    ``now``, soonest expiry first (each is checked again when ended)."""
    parameters: list[dict[str, Any]] = [{"name": "@finished", "value": _FINISHED}]
    if owner:
        query = _LEASED_UNFINISHED + " AND c.lease_owner = @owner"
        parameters.append({"name": "@owner", "value": owner})
    else:
        query = _LEASED_UNFINISHED + " AND c.lease_expires_at <= @now"
        parameters.append({"name": "@now", "value": rows.stamp(now)})
    found = [
        (row.get("lease_expires_at") or "", row["call_id"])
        async for row in containers.calls.query_items(query, parameters=parameters)
    ]
    return [call_id for _, call_id in sorted(found)[:limit]]


def renew(change: CallChange, owner: str, lease_sec: float) -> bool:
    """Renews ``owner``'s lease on the call; False when the call is lost to it."""
    lease = write_rules.renewed_lease(change.call, owner, lease_sec, change.now)
    if lease is None:
        return False
    cosmos_writes.write_lease(change, lease)
    return True


def end_orphan(change: CallChange, owner: str) -> str | None:
    """Ends the call as ``line_dropped`` if it is still an orphan; the replica that held
    it, or None when it is not an orphan (any more)."""
    if not write_rules.orphaned(change.call, owner, change.now):
        return None
    held_by = str(change.call["lease_owner"])
    cosmos_writes.set_call_state(change, domain.CallState.ENDED, LINE_DROPPED)
    return held_by
