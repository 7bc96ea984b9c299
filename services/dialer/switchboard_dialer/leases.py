"""``CallLeases``: this replica's leases on its live calls, and the calls of gone replicas.

A live call cannot outlive the dialer process that runs its media session, so the call
must not outlive it in the store either (``dialing`` or ``in_progress`` forever, its
post-call report never written). This replica leases each call with the state change
that makes it live (``Dialer.place_call``, ``CallRegistry`` at the answer) and renews
the leases of its live calls every ``lease_renew_sec``. Calls of a replica that died
are ended as ``line_dropped`` by the store's usual ending write, which queues their
post-call job:

- at once when the replica comes back under the same name (``replica_id``): before it
  takes a call, it ends every call it held, since none of them lives on;
- by any replica once the lease expired (``lease_sec`` without a renewal): every
  replica sweeps expired leases every ``orphan_sweep_sec``.

A call whose lease this replica lost (it was ended by a sweep while this replica could
not renew, e.g. cut off from the store) is hung up here too: the store has already
closed it and queued its report.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable

from switchboard.call_leases import (
    LINE_DROPPED,
    MAX_LEASES_PER_RENEWAL,
    MAX_ORPHANS_PER_SWEEP,
    CallLease,
)
from switchboard.clock import Clock, SystemClock
from switchboard.config import DialerSettings
from switchboard.errors import SwitchboardError
from switchboard.tasks import TaskOwner
from switchboard_dialer.advertise import advertised_address
from switchboard_dialer.ports import CallStore
from switchboard_dialer.registry import CallRegistry

log = logging.getLogger(__name__)

_Work = Callable[[], Awaitable[None]]


def replica_name(configured: str) -> str:
    """``dialer.replica_id``, or this host's name and process id (unique on the host; in a
    container the process id is stable, so a restarted container keeps its name)."""
    return configured.strip() or f"{socket.gethostname()}-{os.getpid()}"


def lease_of(settings: DialerSettings) -> CallLease:
    """The lease this replica takes on every call it runs; it records where gateways reach
    this replica (``advertise_address``), so REST call control reaches the call's replica."""
    return CallLease(
        owner=replica_name(settings.replica_id),
        lease_sec=settings.lease_sec,
        address=advertised_address(settings.advertise_address),
    )


class CallLeases:
    """Renews this replica's leases and ends the calls of gone replicas, as two named tasks."""

    def __init__(
        self,
        store: CallStore,
        registry: CallRegistry,
        lease: CallLease,
        settings: DialerSettings,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self.lease = lease
        self._renew_sec = settings.lease_renew_sec
        self._sweep_sec = settings.orphan_sweep_sec
        self._clock = clock or SystemClock()
        self._tasks = TaskOwner(f"leases-{lease.owner}")

    @property
    def owner(self) -> str:
        return self.lease.owner

    async def end_own_orphans(self) -> list[str]:
        """Before this replica takes any call: ends the calls it held before a restart.
        When the store cannot be reached, the sweeps end them once their leases expire."""
        try:
            ended = await self._end_orphans(self.owner)
        except SwitchboardError as exc:
            log.warning(
                "could not end this replica's calls from before its restart; "
                "they end when their leases expire",
                extra={"replica": self.owner, "error": exc.message},
            )
            return []
        if ended:
            log.warning(
                "calls from before this replica's restart ended as line_dropped",
                extra={"replica": self.owner, "call_ids": ended},
            )
        return ended

    def start(self) -> None:
        """Starts renewing and sweeping, until :meth:`close`."""
        self._tasks.spawn(self._every(self._renew_sec, self.renew), "renew")
        self._tasks.spawn(self._every(self._sweep_sec, self.sweep), "sweep")

    async def close(self) -> None:
        await self._tasks.close()

    async def renew(self) -> None:
        """Renews the leases of this replica's live calls; hangs up the ones it lost."""
        live = self._registry.live_call_ids()
        renewed: set[str] = set()
        for start in range(0, len(live), MAX_LEASES_PER_RENEWAL):
            batch = live[start : start + MAX_LEASES_PER_RENEWAL]
            renewed.update(
                await self._store.renew_call_leases(self.owner, batch, self.lease.lease_sec)
            )
        for call_id in live:
            if call_id not in renewed and self._registry.is_live(call_id):
                log.warning(
                    "call lease lost: another replica ended the call; hanging up",
                    extra={"call_id": call_id, "replica": self.owner},
                )
                await self._registry.hang_up(call_id, LINE_DROPPED)

    async def sweep(self) -> None:
        """Ends the calls whose lease expired, whichever replica held them."""
        ended = await self._end_orphans("")
        if ended:
            log.info("calls of a gone replica ended", extra={"call_ids": ended})

    async def _end_orphans(self, owner: str) -> list[str]:
        ended: list[str] = []
        while True:
            batch = await self._store.end_orphaned_calls(owner, MAX_ORPHANS_PER_SWEEP)
            ended += batch
            if len(batch) < MAX_ORPHANS_PER_SWEEP:
                return ended

    async def _every(self, period_sec: float, work: _Work) -> None:
        """Runs ``work`` every ``period_sec``; a store that is away is tried again later."""
        while True:
            await self._clock.sleep(period_sec)
            try:
                await work()
            except SwitchboardError as exc:
                log.warning(
                    "call leases: store not reached, trying again",
                    extra={"replica": self.owner, "work": work.__name__, "error": exc.message},
                )
