"""The outbound INVITE procedure: progress, digest retries, answer, CANCEL.

Statuses map to call outcomes: 486/600 → ``busy``; 408/480 or the ring timeout →
``no_answer``; 487 after our CANCEL → ``cancelled``; any other final error → ``failed``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Literal

from switchboard_dialer.telephony.sip import digest, sdp
from switchboard_dialer.telephony.sip.address import NameAddr, SipUri, new_tag
from switchboard_dialer.telephony.sip.call import CallState, SipCall
from switchboard_dialer.telephony.sip.context import ALLOW
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse, ascii_digits
from switchboard_dialer.telephony.sip.transaction import (
    ClientTransaction,
    ServerTransaction,
    make_response,
)

log = logging.getLogger(__name__)

MAX_AUTH_ATTEMPTS = 2
CANCEL_WAIT_SEC = 5.0  # how long a CANCELled INVITE may take to end (487 or a late 200)


def outcome(status: int) -> str:
    if status in (486, 600):
        return "busy"
    if status in (408, 480):
        return "no_answer"
    if status == 487:
        return "cancelled"
    return "failed"


class OutboundInvite:
    """The INVITE client side of one call (its first INVITE and digest retries).

    It is the :class:`~switchboard_dialer.telephony.sip.call.CallControl` of a call we
    place: ringing, answering and rejecting are the far end's to do, giving up is a CANCEL.
    """

    direction: Literal["outbound"] = "outbound"

    def __init__(self, call: SipCall, target: SipUri, next_hop: tuple[str, int]) -> None:
        self.call = call
        self.target = target
        self.next_hop = next_hop
        self.tx: ClientTransaction | None = None
        self.provisional = asyncio.Event()
        self.cancelling = False
        self._ack: tuple[bytes, tuple[str, int]] | None = None
        context = call.context
        config = context.config
        local = NameAddr(
            SipUri(
                config.aor_domain.split(":")[0],
                config.caller_id or config.user,
                _port(config.aor_domain),
            ),
            config.display_name,
            {"tag": new_tag()},
        )
        request = SipRequest(method="INVITE", uri=str(target))
        request.add("Via", context.transport.via())
        request.add("Max-Forwards", "70")
        request.add("From", str(local))
        request.add("To", str(NameAddr(target)))
        request.add("Call-ID", call.call_id)
        request.add("CSeq", f"{secrets.randbelow(10_000) + 1} INVITE")
        request.add("Contact", context.contact)
        request.add("Allow", ALLOW)
        request.add("User-Agent", config.user_agent)
        request.add("Content-Type", "application/sdp")
        request.body = sdp.offer(context.media_host, call.rtp.port, config.codecs)
        self.request = request

    async def run(self, ring_timeout_sec: float) -> None:
        """Sends the INVITE and follows it to an answer or an end."""
        call = self.call
        final: SipResponse | None = None
        try:
            async with asyncio.timeout(ring_timeout_sec):
                final = await self._invite_with_auth()
        except TimeoutError:
            log.info("sip ring timeout", extra={"call": call.ref})
            await self.cancel("no_answer")
            return
        if 200 <= final.status < 300:
            return  # the answer was handled as the 2xx arrived
        await call.finish("cancelled" if self.cancelling else outcome(final.status))

    async def _invite_with_auth(self) -> SipResponse:
        context = self.call.context
        config = context.config
        for attempt in range(MAX_AUTH_ATTEMPTS + 1):
            self.tx = context.transport.request(self.request, self.next_hop, self._on_response)
            final = await asyncio.shield(self.tx.final)
            if final.status not in (401, 407) or attempt == MAX_AUTH_ATTEMPTS or self.cancelling:
                return final
            header = "WWW-Authenticate" if final.status == 401 else "Proxy-Authenticate"
            try:
                challenge = digest.Challenge.parse(final.get(header) or "")
            except digest.DigestError:
                return final
            answer = digest.authorization(
                challenge,
                "INVITE",
                self.request.uri,
                config.auth_user or config.user,
                config.password,
            )
            retry = SipRequest(method="INVITE", uri=self.request.uri, body=self.request.body)
            for name, value in self.request.headers:
                if name == "Via":
                    value = context.transport.via()
                elif name == "CSeq":
                    value = f"{self.request.cseq[0] + 1} INVITE"
                elif name in ("Authorization", "Proxy-Authorization"):
                    continue
                retry.add(name, value)
            retry.add("Authorization" if final.status == 401 else "Proxy-Authorization", answer)
            self.request = retry
        raise AssertionError("unreachable")

    def _on_response(self, response: SipResponse) -> None:
        call = self.call
        context = call.context
        if response.status < 200:
            self.provisional.set()
            if response.status in (180, 181, 182):
                call.progress(CallState.RINGING, response.status)
            if response.body and response.status == 183:
                if self._media(response):
                    call.progress(CallState.EARLY_MEDIA, response.status)
            return
        if response.status >= 300:
            return
        if self._ack is not None:  # a retransmitted 2xx: our ACK was lost
            context.transport.send(*self._ack)
            return
        dialog = Dialog.as_caller(self.request, response, context.contact)
        call.dialog = dialog
        ack = dialog.request("ACK", context.transport.via(), cseq=self.request.cseq[0])
        self._ack = (ack.to_bytes(), dialog.next_hop)
        context.transport.send(*self._ack)
        if self.cancelling or call.ended.done():  # answered while we were giving up
            context.spawn(self._end_late_answer(), f"late-answer-{call.ref}")
            return
        if not self._media(response) and call.media is None:
            context.spawn(self._end_late_answer("failed"), f"bad-answer-{call.ref}")
            return
        call.progress(CallState.ANSWERED, response.status)

    async def _end_late_answer(self, reason: str = "cancelled") -> None:
        await self.call.send_bye()
        await self.call.finish(reason)

    def _media(self, response: SipResponse) -> bool:
        try:
            media = sdp.accept_answer(sdp.parse(response.body), self.call.context.config.codecs)
        except sdp.SdpError:
            log.info("sip answer without usable sdp", extra={"call": self.call.ref})
            return False
        self.call.connect_media(media)
        return True

    async def cancel(self, reason: str = "cancelled") -> None:
        """Gives up before the answer (RFC 3261 §9.1: CANCEL only after a provisional)."""
        call = self.call
        self.cancelling = True
        tx = self.tx
        if tx is not None and not tx.final.done():
            try:
                await asyncio.wait_for(self.provisional.wait(), CANCEL_WAIT_SEC)
                cancel = SipRequest(method="CANCEL", uri=tx.request.uri)
                cancel.add("Via", tx.request.get_all("Via")[0])
                for route in tx.request.get_all("Route"):
                    cancel.add("Route", route)
                cancel.add("Max-Forwards", "70")
                for name in ("From", "To", "Call-ID"):
                    cancel.add(name, tx.request.get(name) or "")
                cancel.add("CSeq", f"{tx.request.cseq[0]} CANCEL")
                call.context.transport.request(cancel, self.next_hop)
                await asyncio.wait_for(asyncio.shield(tx.final), CANCEL_WAIT_SEC)
            except TimeoutError:
                log.info("sip cancel got no final answer", extra={"call": call.ref})
        if call.state is CallState.ANSWERED:
            return  # the late 2xx is being ACKed and BYEd
        await call.finish(reason)

    # CallControl ---------------------------------------------------------------

    def ring(self) -> None:
        """The far end rings, not us."""

    async def answer(self) -> None:
        """The far end answers, not us."""

    def reject(self, status: int) -> None:
        """Only a caller can be rejected; ours is given up with :meth:`abandon`."""

    async def abandon(self) -> None:
        """``SipCall.hang_up`` before the answer: CANCEL."""
        await self.cancel("cancelled")

    def cancelled(self, request: SipRequest, tx: ServerTransaction) -> None:
        """A CANCEL is for the INVITE's recipient; for a call we placed it matches nothing."""
        tx.respond(make_response(request, 481))


def _port(domain: str) -> int | None:
    _, _, port = domain.partition(":")
    return int(port) if ascii_digits(port, 5) else None
