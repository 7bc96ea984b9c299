"""One SIP call, either direction: progress, media, DTMF, in-dialog requests and hang-up.

What differs between a call we place and a call we take (ringing, answering, rejecting,
giving up before the answer, a CANCEL from the far end) is the :class:`CallControl`
the call is built with: ``uac.OutboundInvite`` or ``uas.InboundInvite``. The call
reaches its user agent only through :class:`~.context.SipContext`.

A call's tasks (the INVITE procedure, its RTP sender) belong to the call and stop
when it ends. ``ended`` resolves with the reason once, whoever ends the call.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.context import SipContext
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.message import SipRequest, ascii_digits
from switchboard_dialer.telephony.sip.rtp import RtpStream
from switchboard_dialer.telephony.sip.transaction import ServerTransaction, make_response

log = logging.getLogger(__name__)

BYE_TIMEOUT_SEC = 5.0


class CallState(enum.Enum):
    CALLING = "calling"
    RINGING = "ringing"
    EARLY_MEDIA = "early_media"
    ANSWERED = "answered"
    ENDED = "ended"


@dataclass(frozen=True)
class CallProgress:
    """A step of the call; ``status`` is the SIP status that caused it (0 if none)."""

    state: CallState
    status: int = 0
    reason: str = ""


class CallFailed(Exception):
    """A call that was never answered: ``busy``, ``no_answer``, ``failed``, ``cancelled`` …"""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Why a call ended, as put into ``SipCall.ended``.
EndReason = Literal[
    "busy",
    "no_answer",
    "failed",
    "cancelled",
    "remote_cancelled",
    "rejected",
    "remote_hangup",
    "local_hangup",
    "transferred",
    "ack_timeout",
    "shutdown",
]


Direction = Literal["outbound", "inbound"]


class CallControl(Protocol):
    """The direction-specific half of a call: its INVITE transaction, seen from our side."""

    @property
    def direction(self) -> Direction:
        """``outbound`` for a call we placed (UAC), ``inbound`` for one we took (UAS)."""

    def ring(self) -> None:
        """Tells a caller we are ringing; nothing for a call we placed."""

    async def answer(self) -> None:
        """Answers a caller; nothing for a call we placed."""

    def reject(self, status: int) -> None:
        """Refuses a caller not answered yet; nothing for a call we placed."""

    async def abandon(self) -> None:
        """Ends the call before it was answered (CANCEL, or a rejection of a caller)."""

    def cancelled(self, request: SipRequest, tx: ServerTransaction) -> None:
        """The far end sent CANCEL for this call's INVITE."""


class SipCall:
    """A call in progress. Built by the endpoint, never directly.

    ``control`` builds the call's :class:`CallControl` from the call itself (the INVITE
    procedures need the call's id and media port, and the call needs them).
    """

    def __init__(
        self,
        context: SipContext,
        call_id: str,
        remote_user: str,
        rtp: RtpStream,
        control: Callable[[SipCall], CallControl],
    ) -> None:
        self.context = context
        self.call_id = call_id
        # Logs name a call by this digest: a Call-ID can embed a number.
        self.ref = hashlib.sha256(call_id.encode()).hexdigest()[:10]
        self.remote_user = remote_user  # personal data: only in pii_ log fields
        self.rtp = rtp
        self.state = CallState.CALLING
        self.dialog: Dialog | None = None
        self.media: sdp.Negotiated | None = None
        self.tasks = TaskOwner(f"sip-call-{self.ref}")
        loop = asyncio.get_running_loop()
        self.answered: asyncio.Future[bool] = loop.create_future()
        self.ended: asyncio.Future[str] = loop.create_future()
        self._progress: asyncio.Queue[CallProgress] = asyncio.Queue()
        self.refer_progress: asyncio.Queue[int] = asyncio.Queue()
        self.bridged_to: SipCall | None = None
        # Whether a (re-)offer may send our media to this host; inbound calls restrict it.
        self.media_allowed: Callable[[str], bool] = lambda host: True
        self.control = control(self)

    @property
    def direction(self) -> Direction:
        return self.control.direction

    # Progress -----------------------------------------------------------------

    def progress(self, state: CallState, status: int = 0, reason: str = "") -> None:
        if self.state is CallState.ENDED:
            return
        if state is not CallState.ENDED and state is self.state and state is not CallState.RINGING:
            return
        self.state = state
        self._progress.put_nowait(CallProgress(state, status, reason))
        if state is CallState.ANSWERED and not self.answered.done():
            self.answered.set_result(True)

    async def events(self) -> AsyncIterator[CallProgress]:
        """Progress events until (and including) ``ENDED``."""
        while True:
            event = await self._progress.get()
            yield event
            if event.state is CallState.ENDED:
                return

    async def wait_answered(self) -> None:
        """Returns once answered; raises :class:`CallFailed` with the reason otherwise."""
        if not await asyncio.shield(self.answered):
            raise CallFailed(self.ended.result() if self.ended.done() else "failed")

    def connect_media(self, media: sdp.Negotiated) -> None:
        self.media = media
        self.rtp.start(media)

    # Media --------------------------------------------------------------------

    async def audio_in(self) -> AsyncIterator[bytes]:
        """The far end's audio: PCM16 LE, 8 kHz, 20 ms (320-byte) frames, until the call ends."""
        while (frame := await self.rtp.frames_in.get()) is not None:
            yield frame

    async def digits(self) -> AsyncIterator[str]:
        """DTMF digits the far end pressed (RFC 4733 events and SIP INFO)."""
        while not self.ended.done():
            getter = asyncio.ensure_future(self.rtp.digits_in.get())
            await asyncio.wait([getter, self.ended], return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                return
            yield getter.result()

    def send_audio(self, pcm: bytes) -> None:
        """Queues PCM16 LE 8 kHz audio for the far end, paced at 20 ms."""
        self.rtp.send_audio(pcm)

    def clear_audio(self) -> None:
        """Drops audio queued by :meth:`send_audio` that has not gone out yet."""
        self.rtp.clear_audio()

    def send_dtmf(self, digits: str) -> None:
        """Sends digits as RFC 4733 events (if the far end accepted telephone-event)."""
        if self.media is None or self.media.dtmf_payload is None:
            raise CallFailed("the far end did not accept telephone-event; DTMF cannot be sent")
        self.rtp.send_dtmf(digits)

    # Inbound ------------------------------------------------------------------

    def ring(self) -> None:
        """Inbound: tells the caller we are ringing (180)."""
        self.control.ring()

    async def answer(self) -> None:
        """Inbound: answers (200 with our SDP); media flows from now on."""
        await self.control.answer()

    def reject(self, status: int = 486) -> None:
        """Refuses an inbound call that is not answered yet."""
        self.control.reject(status)

    # Ending -------------------------------------------------------------------

    async def hang_up(self) -> None:
        """Ends the call from our side, whatever its state: BYE, CANCEL or a rejection."""
        if self.ended.done():
            return
        if self.state is CallState.ANSWERED:
            await self.send_bye()
            await self.finish("local_hangup")
        else:
            await self.control.abandon()

    async def send_bye(self) -> None:
        if self.dialog is None:
            return
        transport = self.context.transport
        tx = transport.request(self.dialog.request("BYE", transport.via()), self.dialog.next_hop)
        try:
            await asyncio.wait_for(asyncio.shield(tx.final), BYE_TIMEOUT_SEC)
        except (TimeoutError, asyncio.CancelledError):
            log.info("bye got no answer", extra={"call": self.ref})

    async def finish(self, reason: str) -> None:
        """Marks the call ended (once), stops its media and tasks."""
        if self.ended.done():
            return
        self.ended.set_result(reason)
        if not self.answered.done():
            self.answered.set_result(False)
        self.progress(CallState.ENDED, reason=reason)
        log.info("sip call ended", extra={"call": self.ref, "reason": reason})
        await self.rtp.close()
        await self.tasks.close()

    # In-dialog requests -------------------------------------------------------

    def handle_request(self, request: SipRequest, tx: ServerTransaction) -> None:
        """A request inside this call's dialog (already matched by Call-ID and tags)."""
        tag = self.dialog.local.tag if self.dialog else ""
        method = request.method
        if method == "BYE":
            tx.respond(make_response(request, 200, tag))
            self.context.spawn(self.finish("remote_hangup"), f"bye-{self.ref}")
        elif method == "NOTIFY":
            tx.respond(make_response(request, 200, tag))
            self._refer_notify(request)
        elif method == "INVITE":
            self._reinvite(request, tx)
        elif method == "INFO":
            tx.respond(make_response(request, 200, tag))
            self._info_dtmf(request)
        elif method in ("OPTIONS", "UPDATE"):
            tx.respond(make_response(request, 200 if method == "OPTIONS" else 501, tag))
        elif method == "REFER":
            tx.respond(make_response(request, 603, tag))  # the bot is not a transferee
        else:
            tx.respond(make_response(request, 405, tag))

    def _refer_notify(self, request: SipRequest) -> None:
        if not (request.get("Event") or "").lower().startswith("refer"):
            return
        status_line = request.body.decode("utf-8", "replace").strip().split("\r\n")[0]
        parts = status_line.split(" ")
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and ascii_digits(parts[1], 3):
            self.refer_progress.put_nowait(int(parts[1]))
        elif "terminated" in (request.get("Subscription-State") or "").lower():
            self.refer_progress.put_nowait(500)

    def _reinvite(self, request: SipRequest, tx: ServerTransaction) -> None:
        """A re-INVITE (session refresh, hold, new address): answer with our same stream."""
        tag = self.dialog.local.tag if self.dialog else ""
        try:
            if request.body:
                offer = sdp.parse(request.body)
                if not self.media_allowed(offer.host):
                    raise sdp.SdpError("media address not allowed")
                media, body = sdp.answer(
                    offer, self.context.media_host, self.rtp.port, self.context.config.codecs
                )
                self.connect_media(media)
            else:
                body = sdp.offer(self.context.media_host, self.rtp.port, self.context.config.codecs)
        except sdp.SdpError:
            tx.respond(make_response(request, 488, tag))
            return
        response = make_response(request, 200, tag)
        response.add("Contact", self.dialog.contact if self.dialog else "")
        response.add("Content-Type", "application/sdp")
        response.body = body
        tx.respond(response)

    def _info_dtmf(self, request: SipRequest) -> None:
        if (request.get("Content-Type") or "").lower() != "application/dtmf-relay":
            return
        for line in request.body.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            digit = value.strip()[:1]
            if key.strip().lower() == "signal" and digit and digit in "0123456789*#ABCD":
                self.rtp.digits_in.put_nowait(digit)
