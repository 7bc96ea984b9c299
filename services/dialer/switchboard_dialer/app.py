"""Wiring: the dialer's parts built from settings and the clients it talks through."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from switchboard import domain
from switchboard.clock import Clock
from switchboard.config import DialerSettings
from switchboard.features import FeatureFlags
from switchboard_dialer.dialer import Dialer
from switchboard_dialer.inbound import InboundLines
from switchboard_dialer.ports import BrainPort, CallStore, SpeechPort
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

    async def start(self) -> None:
        """Starts the telephony provider (binds its sockets); awaited once before serving."""
        await self.telephony.start()
        log.info("telephony started", extra={"provider": self.telephony.name})

    async def drain(self, timeout_sec: float) -> None:
        """SIGTERM: refuses new calls, lets the live ones finish for up to ``timeout_sec``,
        then ends the rest with a goodbye (reason ``drained``)."""
        self.dialer.stop_taking_calls()
        await self.registry.drain(timeout_sec)

    async def stop(self) -> None:
        """Hangs up every live call (reason ``shutdown``), then releases the providers."""
        await self.registry.stop_all(SHUTDOWN_REASON)
        await self.telephony.close()
        await self.sms.close()
        log.info("dialer stopped")


def build_dialer(
    store: CallStore,
    brain: BrainPort,
    telephony: TelephonyProvider,
    flags: FeatureFlags,
    settings: DialerSettings,
    sms: SmsProvider | None = None,
    speech: SpeechPort | None = None,
    clock: Clock | None = None,
) -> DialerApp:
    """Builds the dialer; ``clock`` drives the call timers, the playout and the
    reconnect backoff (tests pass a virtual one). Without ``speech`` only text
    lines can be served."""
    sms_provider = sms or create_sms(settings.sms, store, settings)

    def new_session(call: domain.Call) -> CallSession:
        return CallSession(
            call,
            brain,
            store,
            sms_provider,
            flags,
            settings,
            speech=speech,
            clock=clock,
            sends_dtmf=telephony.sends_dtmf,
        )

    registry = CallRegistry(store, new_session, settings, clock=clock)
    inbound = InboundLines(settings.inbound)
    dialer = Dialer(store, telephony, registry, sms_provider, flags, inbound)
    servicer = DialerServicer(dialer, telephony)
    return DialerApp(dialer, registry, telephony, sms_provider, servicer)
