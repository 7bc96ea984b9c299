"""The inbound INVITE procedure: 100 at once, 180 on ring, 200 with our SDP answer.

The 200 is retransmitted until the caller's ACK arrives; without an ACK after 64·T1
the call is ended with a BYE (RFC 3261 §13.3.1.4). A CANCEL before the answer gets
200, the INVITE 487, and the call ends as ``remote_cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.call import CallState, SipCall
from switchboard_dialer.telephony.sip.context import ALLOW
from switchboard_dialer.telephony.sip.message import SipRequest
from switchboard_dialer.telephony.sip.transaction import ServerTransaction, make_response

log = logging.getLogger(__name__)

REJECT_ON_HANG_UP = 480  # Temporarily Unavailable: we hung up on a caller we had not answered


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
