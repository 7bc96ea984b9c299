"""The inbound INVITE procedure: 100 at once, 180 on ring, 200 with our SDP answer.

The 200 is retransmitted until the caller's ACK arrives; without an ACK after 64·T1
the call is ended with a BYE (RFC 3261 §13.3.1.4). A CANCEL before the answer gets
200, the INVITE 487, and the call ends as ``remote_cancelled``.
"""

from __future__ import annotations

import asyncio
import logging

from switchboard_dialer.telephony.sip import sdp
from switchboard_dialer.telephony.sip.call import CallState, SipCall
from switchboard_dialer.telephony.sip.transaction import make_response

log = logging.getLogger(__name__)


def ring(call: SipCall) -> None:
    """Tells the caller we are ringing (180)."""
    if call.invite is None or call.invite_tx is None or call.dialog is None:
        return
    if call.state is CallState.CALLING:
        response = make_response(call.invite, 180, call.dialog.local.tag)
        response.add("Contact", call.dialog.contact)
        call.invite_tx.respond(response)
        call.progress(CallState.RINGING, 180)


async def answer(call: SipCall, offer: sdp.MediaOffer) -> None:
    """Answers with 200 + SDP; returns at once, the media starts now."""
    if call.invite is None or call.invite_tx is None or call.dialog is None:
        return
    if call.ended.done() or call.answered.done():
        return
    endpoint = call.endpoint
    media, body = sdp.answer(offer, endpoint.media_host, call.rtp.port, endpoint.config.codecs)
    response = make_response(call.invite, 200, call.dialog.local.tag)
    response.add("Contact", call.dialog.contact)
    response.add("Allow", endpoint.ALLOW)
    response.add("Content-Type", "application/sdp")
    response.body = body
    tx = call.invite_tx
    tx.respond(response)
    call.connect_media(media)
    call.progress(CallState.ANSWERED, 200)
    call.tasks.spawn(_await_ack(call, tx.acked), "await-ack")


async def _await_ack(call: SipCall, acked: asyncio.Future[bool]) -> None:
    if not await acked:
        log.info("sip 200 never acknowledged", extra={"call": call.ref})
        await call.send_bye()
        await call.finish("ack_timeout")
