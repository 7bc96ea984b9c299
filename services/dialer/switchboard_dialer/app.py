"""Wiring: the dialer's parts built from settings and the clients it talks through."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from switchboard import domain
from switchboard.blobs import BlobStore
from switchboard.clock import Clock, SystemClock
from switchboard.config import Settings
from switchboard.features import FeatureFlags
from switchboard.tasks import cancel_and_wait
from switchboard_dialer.dialer import Dialer
from switchboard_dialer.inbound import InboundLines
from switchboard_dialer.leases import CallLeases, lease_of
from switchboard_dialer.ports import BrainPort, CallStore, SpeechPort
from switchboard_dialer.recording import CallRecordings
from switchboard_dialer.registry import CallRegistry
from switchboard_dialer.servicer import DialerServicer
from switchboard_dialer.session import CallSession
from switchboard_dialer.sms import create_sms
from switchboard_dialer.sms.base import SmsProvider
from switchboard_dialer.telephony.base import TelephonyProvider

log = logging.getLogger(__name__)

SHUTDOWN_REASON = "shutdown"


@dataclass
class DialerApp:
    """Everything one dialer process runs."""

    dialer: Dialer
    registry: CallRegistry
    telephony: TelephonyProvider
    sms: SmsProvider
    servicer: DialerServicer
    leases: CallLeases
    recordings: CallRecordings | None = None
    _sweeps: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        """Ends the calls this replica held before a restart, starts the telephony provider
        (binds its sockets) and the lease renewals; awaited once before serving."""
        await self.leases.end_own_orphans()
        await self.telephony.start()
        log.info(
            "telephony started",
            extra={"provider": self.telephony.name, "replica": self.leases.owner},
        )
        self.leases.start()
        if self.recordings is not None:
            self._sweeps = asyncio.create_task(
                self.recordings.run_sweeps(), name="recording-retention"
            )

    async def drain(self, timeout_sec: float) -> None:
        """SIGTERM: refuses new calls, lets the live ones finish for up to ``timeout_sec``,
        then ends the rest with a goodbye (reason ``drained``)."""
        self.dialer.stop_taking_calls()
        await self.registry.drain(timeout_sec)

    async def stop(self) -> None:
        """Hangs up every live call (reason ``shutdown``), then releases the providers."""
        await self.registry.stop_all(SHUTDOWN_REASON)
        await self.leases.close()  # after the calls ended: their leases are released
        if self._sweeps is not None:
            await cancel_and_wait([self._sweeps])
        if self.recordings is not None:
            await self.recordings.blobs.close()
        await self.telephony.close()
        await self.sms.close()
        log.info("dialer stopped")


def build_dialer(
    store: CallStore,
    brain: BrainPort,
    telephony: TelephonyProvider,
    flags: FeatureFlags,
    settings: Settings,
    sms: SmsProvider | None = None,
    speech: SpeechPort | None = None,
    clock: Clock | None = None,
    blobs: BlobStore | None = None,
) -> DialerApp:
    """Builds the dialer from the root ``settings`` (its ``dialer`` section, and
    ``recording``; an SMS vendor's section when ``sms`` is not given). ``clock`` drives
    the call timers, the playout and the reconnect backoff (tests pass a virtual one).
    Without ``speech`` only text lines can be served; without ``blobs`` no call is
    recorded."""
    sms_provider = sms or create_sms(settings, store)
    recordings = (
        CallRecordings(blobs, flags, settings.recording, clock or SystemClock())
        if blobs is not None
        else None
    )
    dialer_settings = settings.dialer

    def new_session(call: domain.Call) -> CallSession:
        return CallSession(
            call,
            brain,
            store,
            sms_provider,
            flags,
            dialer_settings,
            speech=speech,
            clock=clock,
            sends_dtmf=telephony.sends_dtmf,
            recordings=recordings,
        )

    lease = lease_of(dialer_settings)
    registry = CallRegistry(store, new_session, dialer_settings, clock=clock, lease=lease)
    inbound = InboundLines(dialer_settings.inbound)
    dialer = Dialer(store, telephony, registry, sms_provider, flags, inbound, lease=lease)
    servicer = DialerServicer(dialer, telephony)
    leases = CallLeases(store, registry, lease, dialer_settings, clock)
    return DialerApp(dialer, registry, telephony, sms_provider, servicer, leases, recordings)
