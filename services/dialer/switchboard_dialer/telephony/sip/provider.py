"""The ``sip`` provider: :class:`SipEndpoint` behind the dialer's telephony seam.

Outbound: ``dial`` places a SIP call and resolves the :class:`Ring` from its progress.
Inbound: a SIP INVITE rings (180) while the dialer takes the call; ``accept`` answers
(200). Every line is a voice line at 8 kHz; DTMF becomes ``CallerDtmf``, the far end
hanging up becomes ``CallerGone("caller_hangup")``.
"""

from __future__ import annotations

import asyncio
import logging

from switchboard.config import SipSettings
from switchboard.errors import FailedPrecondition, SwitchboardError
from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.base import (
    CallerDtmf,
    CallerEvent,
    CallerGone,
    PhoneLine,
    Ring,
    TelephonyProvider,
)
from switchboard_dialer.telephony.sip.address import AddressError
from switchboard_dialer.telephony.sip.admission import InboundPolicy
from switchboard_dialer.telephony.sip.call import CallFailed, CallState, SipCall
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.endpoint import SipEndpoint
from switchboard_dialer.telephony.sip.rtp import NoRtpPort

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
NO_RTP_PORT = "no_rtp_port"  # why a call failed when the RTP port range is exhausted
# SipCall end reasons → what a line reports when the caller side goes away (any
# other reason: ``line_dropped``).
CALLER_GONE = {
    "remote_hangup": "caller_hangup",
    "remote_cancelled": "caller_hangup",
    "transferred": "transferred",  # a REFER the far end carried out
}


def config_from_settings(settings: SipSettings) -> SipConfig:
    """The endpoint's configuration from the ``dialer.sip`` section."""
    return SipConfig(
        bind_host=settings.bind_host,
        bind_port=settings.bind_port,
        public_host=settings.public_host,
        trunk_host=settings.host,
        trunk_port=settings.port,
        domain=settings.domain,
        user=settings.user,
        auth_user=settings.auth_user,
        password=settings.password,
        caller_id=settings.caller_id,
        register=settings.registration,
        register_expires_sec=settings.register_expires_sec,
        rtp_ports=(settings.rtp_port_min, settings.rtp_port_max),
        codecs=settings.codecs,
        inbound=InboundPolicy(
            sources=settings.inbound_sources,
            digest=settings.inbound_digest,
            max_calls=settings.inbound_max_calls,
            max_calls_per_source=settings.inbound_max_calls_per_source,
            media_networks=settings.inbound_media_networks,
        ),
    )


class SipLine(PhoneLine):
    """One SIP call as the dialer sees it: a voice line at 8 kHz."""

    def __init__(
        self, call_id: str, call: SipCall, endpoint: SipEndpoint, tasks: TaskOwner
    ) -> None:
        super().__init__(call_id, SAMPLE_RATE)
        self.sip_call = call
        self._endpoint = endpoint
        self._events: asyncio.Queue[CallerEvent] = asyncio.Queue()
        self._gone: CallerGone | None = None
        self._audio_over = False
        tasks.spawn(self._watch(), f"line-{call.ref}")

    async def _watch(self) -> None:
        call = self.sip_call
        async for digit in call.digits():
            self._events.put_nowait(CallerDtmf(digits=digit))
        reason = await call.ended
        self._gone = CallerGone(reason=CALLER_GONE.get(reason, "line_dropped"))
        self._events.put_nowait(self._gone)

    async def next_event(self) -> CallerEvent:
        if self._gone is not None and self._events.empty():
            return self._gone
        return await self._events.get()

    async def read_frame(self) -> bytes | None:
        if self._audio_over:
            return None
        frame = await self.sip_call.rtp.frames_in.get()
        self._audio_over = frame is None
        return frame

    def play_frame(self, pcm: bytes) -> None:
        self.sip_call.send_audio(pcm)

    def clear_audio(self) -> None:
        self.sip_call.clear_audio()

    async def say(self, turn_id: str, text: str) -> None:
        """A voice line speaks through ``play_frame``; text is not sent over SIP."""

    async def turn_done(self, turn_id: str) -> None:
        """Nothing to tell a SIP peer at a turn boundary."""

    async def transfer(self, target: str) -> None:
        try:
            outcome = await self._endpoint.transfer(self.sip_call, target)
        except CallFailed as exc:
            raise FailedPrecondition(f"the transfer failed: {exc.reason}") from exc
        log.info("sip transfer done", extra={"call_id": self.call_id, "outcome": outcome})

    async def send_dtmf(self, digits: str) -> None:
        """RFC 4733 events on the call's RTP stream, between the bot's audio frames."""
        try:
            self.sip_call.send_dtmf(digits)
        except CallFailed as exc:
            raise FailedPrecondition(exc.reason) from exc

    async def hang_up(self, reason: str) -> None:
        if self.sip_call.bridged_to is None:  # a bridged call belongs to the human now
            await self.sip_call.hang_up()

    async def accept(self, call_id: str) -> None:
        await super().accept(call_id)
        await self.sip_call.answer()


class SipProvider(TelephonyProvider):
    """Telephony over a SIP trunk, PBX or directly to SIP phones.

    ``settings`` is the provider's own section (``dialer.sip``), passed in by whoever
    builds it: the provider never reads the configuration file itself.
    """

    name = "sip"
    sends_dtmf = True

    def __init__(self, settings: SipSettings) -> None:
        super().__init__()
        self.endpoint = SipEndpoint(config_from_settings(settings), on_inbound=self._inbound_call)
        self._tasks = TaskOwner("sip-provider")
        self._started = False

    async def start(self) -> None:
        """Binds the SIP socket (and registers with the trunk when configured)."""
        if not self._started:
            await self.endpoint.start()
            self._started = True

    async def dial(self, call_id: str, to_number: str) -> Ring:
        if not self._started:
            raise FailedPrecondition("the sip provider was not started")
        try:
            call = await self.endpoint.call(to_number)
        except AddressError as exc:  # no trunk configured and not a sip: URI
            raise FailedPrecondition(f"cannot dial over sip: {exc}") from exc
        except NoRtpPort:
            # The call fails with its reason (the dialer records it) instead of an error
            # that left it dialing forever.
            log.warning("sip call not placed: no free RTP port", extra={"call_id": call_id})
            failed = Ring(call_id, ringing=False, sample_rate=SAMPLE_RATE)
            failed.fail(NO_RTP_PORT)
            return failed

        async def abandon(reason: str) -> None:
            await call.hang_up()

        ring = Ring(call_id, ringing=False, on_abandon=abandon, sample_rate=SAMPLE_RATE)
        self._tasks.spawn(self._follow(ring, call), f"ring-{call.ref}")
        return ring

    async def _follow(self, ring: Ring, call: SipCall) -> None:
        async for event in call.events():
            if event.state in (CallState.RINGING, CallState.EARLY_MEDIA):
                ring.ringing = True
            elif event.state is CallState.ANSWERED:
                ring.answered(SipLine(ring.call_id, call, self.endpoint, self._tasks))
                return
            elif event.state is CallState.ENDED:
                ring.fail(event.reason, failed=event.reason != "cancelled")
                return

    def _inbound_call(self, call: SipCall) -> None:
        self._tasks.spawn(self._take(call), f"inbound-{call.ref}")

    async def _take(self, call: SipCall) -> None:
        call.ring()
        line = SipLine("", call, self.endpoint, self._tasks)
        to_number = ""
        if call.dialog is not None:
            to_number = call.dialog.local.uri.user
        try:
            await self.take_inbound(call.remote_user, to_number, line)
        except SwitchboardError as exc:
            log.warning("sip inbound call not taken", extra={"error": exc.message})
            call.reject(480 if exc.retryable else 603)

    async def close(self) -> None:
        await self.endpoint.close()
        await self._tasks.close()
