"""The inbound INVITE procedure: screening, 100, 180 on ring, 200 with our SDP answer.

An INVITE is screened before it becomes a call: its source and credentials
(``admission``), its From/To/Contact (400), its body (415 if not SDP, 400 if unreadable,
488 if unusable or if it would send our media to a third party).

The 200 is retransmitted until the caller's ACK arrives; without an ACK after 64·T1
the call is ended with a BYE (RFC 3261 §13.3.1.4). A CANCEL before the answer gets
200, the INVITE 487, and the call ends as ``remote_cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.address import AddressError, new_tag
from switchboard_dialer.telephony.sip.admission import InboundGate
from switchboard_dialer.telephony.sip.call import CallState, SipCall
from switchboard_dialer.telephony.sip.context import ALLOW
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.g711 import Codec
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse
from switchboard_dialer.telephony.sip.transaction import (
    ServerTransaction,
    bad_request,
    make_response,
)

log = logging.getLogger(__name__)

REJECT_ON_HANG_UP = 480  # Temporarily Unavailable: we hung up on a caller we had not answered


def screen_invite(
    request: SipRequest,
    source: str,
    gate: InboundGate,
    contact: str,
    codecs: tuple[Codec, ...],
) -> tuple[Dialog, sdp.MediaOffer] | SipResponse:
    """The dialog and offer of an INVITE we may take, or the final answer refusing it."""
    tag = new_tag()
    refusal = gate.check(request, source)
    if refusal is not None:
        response = make_response(request, refusal.status, tag, refusal.reason)
        for name, value in refusal.headers:
            response.add(name, value)
        return response
    try:
        dialog = Dialog.as_callee(request, tag, contact)
    except AddressError:
        return bad_request(request, "bad From, To or Contact")
    content_type = (request.get("Content-Type") or "application/sdp").split(";")[0]
    if request.body and content_type.strip().lower() != "application/sdp":
        response = make_response(request, 415, tag)
        response.add("Accept", "application/sdp")
        return response
    try:
        offer = sdp.parse(request.body)
        if not any(codec in codecs for _, codec in offer.codecs):
            raise sdp.SdpError("no common codec")
    except sdp.SdpSyntaxError as exc:
        return bad_request(request, str(exc))
    except sdp.SdpError:
        return make_response(request, 488, tag)
    if not gate.media_allowed(offer.host, source):
        # Our audio goes back where the call came from, never to a third party.
        return make_response(request, 488, tag, "Not Acceptable Here (media address)")
    return dialog, offer


class InboundInvite:
    """The INVITE server side of one call: the caller's INVITE, its transaction and offer.

    It is the :class:`~switchboard_dialer.telephony.sip.call.CallControl` of a call we take.
    """

    direction: Literal["inbound"] = "inbound"

    def __init__(
        self,
        call: SipCall,
        request: SipRequest,
        tx: ServerTransaction,
        offer: sdp.MediaOffer,
    ) -> None:
        self.call = call
        self.request = request
        self.tx = tx
        self.offer = offer

    @property
    def _tag(self) -> str:
        return self.call.dialog.local.tag if self.call.dialog else ""

    def ring(self) -> None:
        """Tells the caller we are ringing (180)."""
        call = self.call
        if call.dialog is None or call.state is not CallState.CALLING:
            return
        response = make_response(self.request, 180, self._tag)
        response.add("Contact", call.dialog.contact)
        self.tx.respond(response)
        call.progress(CallState.RINGING, 180)

    async def answer(self) -> None:
        """Answers with 200 + SDP; returns at once, the media starts now."""
        call = self.call
        if call.dialog is None or call.ended.done() or call.answered.done():
            return
        context = call.context
        media, body = sdp.answer(
            self.offer, context.media_host, call.rtp.port, context.config.codecs
        )
        response = make_response(self.request, 200, self._tag)
        response.add("Contact", call.dialog.contact)
        response.add("Allow", ALLOW)
        response.add("Content-Type", "application/sdp")
        response.body = body
        self.tx.respond(response)
        call.connect_media(media)
        call.progress(CallState.ANSWERED, 200)
        call.tasks.spawn(self._await_ack(self.tx.acked), "await-ack")

    def reject(self, status: int) -> None:
        """Refuses the caller with ``status`` while the call is not answered yet."""
        call = self.call
        if call.answered.done():
            return
        self.tx.respond(make_response(self.request, status, self._tag))
        call.context.spawn(call.finish("rejected"), f"reject-{call.ref}")

    async def abandon(self) -> None:
        """``SipCall.hang_up`` before we answered: the caller is refused."""
        self.reject(REJECT_ON_HANG_UP)

    def cancelled(self, request: SipRequest, tx: ServerTransaction) -> None:
        """The caller gave up: 200 to the CANCEL, 487 to the INVITE if still unanswered."""
        call = self.call
        if tx.addr[0] != self.tx.addr[0]:  # only whoever sent the INVITE may cancel it
            tx.respond(make_response(request, 481))
            return
        tx.respond(make_response(request, 200, self._tag))
        if not self.tx.final_status:
            self.tx.respond(make_response(self.request, 487, self._tag))
            call.context.spawn(call.finish("remote_cancelled"), f"cancelled-{call.ref}")

    async def expire(self, after_sec: float) -> None:
        """Refuses the caller (480) if nobody answered or rejected it in ``after_sec``.

        An inbound call nobody takes must not hold its RTP port and transaction forever.
        """
        await asyncio.sleep(after_sec)
        if not self.call.answered.done():
            log.info("sip inbound call not answered in time", extra={"call": self.call.ref})
            self.reject(REJECT_ON_HANG_UP)

    async def _await_ack(self, acked: asyncio.Future[bool]) -> None:
        if not await acked:
            log.info("sip 200 never acknowledged", extra={"call": self.call.ref})
            await self.call.send_bye()
            await self.call.finish("ack_timeout")
