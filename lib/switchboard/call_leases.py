"""Dialer leases on live calls: the domain side of ``Store.RenewCallLeases`` and
``Store.EndOrphanedCalls``.

A live call's media session runs in one dialer replica, so the call cannot outlive
that process: its line, its playout and the words not yet passed on are there. The
replica leases the call in the store with the state change that makes it live
(dialling, or connected for an inbound call) and renews the lease while the call
lives. When the replica dies its calls are ended as ``line_dropped``: at once by the
same replica when it comes back under the same name (it knows every call it held
is gone), or by any other replica once the lease expired. That ending is the same
store write as any other, so a connected call queues its post-call work exactly once,
and a caller who rings back inside the callback window resumes the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_DROPPED = "line_dropped"
"""The ending reason of a call whose line was lost, a dead dialer replica's included."""

MAX_LEASE_SEC = 3600.0
MAX_LEASE_ADDRESS_CHARS = 200
MAX_LEASES_PER_RENEWAL = 1000
MAX_ORPHANS_PER_SWEEP = 1000


@dataclass(frozen=True)
class CallLease:
    """Who runs a live call (a dialer replica's name), how long the lease lasts without
    a renewal, and where gateways reach that replica (``dialer.advertise_address``; ""
    when it advertises none, then they reach it through ``services.dialer``)."""

    owner: str
    lease_sec: float
    address: str = ""
