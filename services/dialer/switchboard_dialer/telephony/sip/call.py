"""One SIP call, either direction: progress, media, DTMF, transfer and hang-up.

A call's tasks (the INVITE procedure, its RTP sender, a bridge) belong to the call
and stop when it ends. ``ended`` resolves with the reason once, whoever ends the call.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.message import SipRequest
from switchboard_dialer.telephony.sip.rtp import RtpStream
from switchboard_dialer.telephony.sip.transaction import ServerTransaction, make_response

if TYPE_CHECKING:
    from switchboard_dialer.telephony.sip.endpoint import SipEndpoint

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


class SipCall:
    """A call in progress. Built by :class:`SipEndpoint`, never directly."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        call_id: str,
        direction: Literal["outbound", "inbound"],
        remote_user: str,
        rtp: RtpStream,
    ) -> None:
        self.endpoint = endpoint
        self.call_id = call_id
        # Logs name a call by this digest: a Call-ID can embed a number.
        self.ref = hashlib.sha256(call_id.encode()).hexdigest()[:10]
        self.direction = direction
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
        self.invite: SipRequest | None = None  # the INVITE that set the call up
        self.invite_tx: ServerTransaction | None = None  # inbound only
        self.offer: sdp.MediaOffer | None = None  # inbound only: the caller's SDP
        self.bridged_to: SipCall | None = None

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
        from switchboard_dialer.telephony.sip import uas

        uas.ring(self)

    async def answer(self) -> None:
        """Inbound: answers (200 with our SDP); media flows from now on."""
        from switchboard_dialer.telephony.sip import uas

        if self.offer is not None:
            await uas.answer(self, self.offer)

    # Transfer -----------------------------------------------------------------

    async def transfer(self, target: str) -> str:
        """Blind transfer: REFER, or a bridged second call when REFER is refused.

        Returns ``"referred"`` (the far end took the call elsewhere; this call ended) or
        ``"bridged"`` (we called ``target`` and now relay audio between the two calls).
        Raises :class:`CallFailed` if neither worked; the call then stays up.
        """
        from switchboard_dialer.telephony.sip import transfer

        return await transfer.blind_transfer(self, target)

    # Ending -------------------------------------------------------------------

    async def hang_up(self) -> None:
        """Ends the call from our side, whatever its state: BYE, CANCEL or a rejection."""
        if self.ended.done():
            return
        if self.state is CallState.ANSWERED:
            await self.send_bye()
            await self.finish("local_hangup")
        elif self.direction == "outbound":
            from switchboard_dialer.telephony.sip import uac

            await uac.cancel(self)
        else:
            self.reject(480)

    async def send_bye(self) -> None:
        if self.dialog is None:
            return
        request = self.dialog.request("BYE", self.endpoint.transport.via())
        tx = self.endpoint.transport.request(request, self.dialog.next_hop)
        try:
            await asyncio.wait_for(asyncio.shield(tx.final), BYE_TIMEOUT_SEC)
        except (TimeoutError, asyncio.CancelledError):
            log.info("bye got no answer", extra={"call": self.ref})

    def reject(self, status: int = 486) -> None:
        """Refuses an inbound call that is not answered yet."""
        if self.invite_tx is not None and self.invite is not None and not self.answered.done():
            tag = self.dialog.local.tag if self.dialog else ""
            self.invite_tx.respond(make_response(self.invite, status, tag))
            self.endpoint.spawn(self.finish("rejected"), f"reject-{self.ref}")

    async def finish(self, reason: str) -> None:
        """Marks the call ended (once), stops its media and tasks."""
        if self.ended.done():
            return
        self.ended.set_result(reason)
        if not self.answered.done():
            self.answered.set_result(False)
        self.progress(CallState.ENDED, reason=reason)
        log.info("sip call ended", extra={"call": self.ref, "reason": reason})
        self.endpoint.forget(self)
        await self.rtp.close()
        await self.tasks.close()

    # In-dialog requests -------------------------------------------------------

    def handle_request(self, request: SipRequest, tx: ServerTransaction) -> None:
        """A request inside this call's dialog (already matched by Call-ID and tags)."""
        tag = self.dialog.local.tag if self.dialog else ""
        method = request.method
        if method == "BYE":
            tx.respond(make_response(request, 200, tag))
            self.endpoint.spawn(self.finish("remote_hangup"), f"bye-{self.ref}")
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
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
            self.refer_progress.put_nowait(int(parts[1]))
        elif "terminated" in (request.get("Subscription-State") or "").lower():
            self.refer_progress.put_nowait(500)

    def _reinvite(self, request: SipRequest, tx: ServerTransaction) -> None:
        """A re-INVITE (session refresh, hold, new address): answer with our same stream."""
        tag = self.dialog.local.tag if self.dialog else ""
        try:
            if request.body:
                offer = sdp.parse(request.body)
                media, body = sdp.answer(
                    offer, self.endpoint.media_host, self.rtp.port, self.endpoint.config.codecs
                )
                self.connect_media(media)
            else:
                body = sdp.offer(
                    self.endpoint.media_host, self.rtp.port, self.endpoint.config.codecs
                )
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
