"""The SIP user agent: one UDP socket, outbound and inbound calls, optional registration.

The endpoint is the top of the stack: it implements :class:`~.context.SipContext` for the
procedures below it, builds each call with its direction's control (``uac`` or ``uas``)
and routes incoming requests to the call they belong to.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.sip import rtp, sdp, transfer
from switchboard_dialer.telephony.sip.address import AddressError, NameAddr, SipUri, new_tag
from switchboard_dialer.telephony.sip.call import SipCall
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.context import ALLOW
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.message import SipRequest
from switchboard_dialer.telephony.sip.registration import Registration
from switchboard_dialer.telephony.sip.transaction import ServerTransaction, make_response
from switchboard_dialer.telephony.sip.transport import SipTransport
from switchboard_dialer.telephony.sip.uac import OutboundInvite
from switchboard_dialer.telephony.sip.uas import InboundInvite

log = logging.getLogger(__name__)

InboundCallback = Callable[[SipCall], None]


class SipEndpoint:
    """``await SipEndpoint(config).start()``, then :meth:`call` or take :attr:`inbound` calls."""

    def __init__(self, config: SipConfig, on_inbound: InboundCallback | None = None) -> None:
        self.config = config
        self.inbound: asyncio.Queue[SipCall] = asyncio.Queue()
        self._on_inbound = on_inbound
        self._transport: SipTransport | None = None
        self._calls: dict[str, SipCall] = {}
        self._tasks = TaskOwner("sip-endpoint")
        self.registration: Registration | None = None

    @property
    def transport(self) -> SipTransport:
        if self._transport is None:
            raise RuntimeError("SipEndpoint.start() was not called")
        return self._transport

    @property
    def local_port(self) -> int:
        return self.transport.local[1]

    @property
    def media_host(self) -> str:
        return self.config.contact_host

    @property
    def contact(self) -> str:
        return f"<sip:{self.config.user}@{self.config.contact_host}:{self.local_port}>"

    @property
    def calls(self) -> list[SipCall]:
        return list(self._calls.values())

    async def start(self) -> SipEndpoint:
        """Binds the SIP socket and, if configured, registers (the first time awaited)."""
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: SipTransport(self.config.timers),
            local_addr=(self.config.bind_host, self.config.bind_port),
        )
        self._transport = protocol
        protocol.on_request = self._on_request
        protocol.on_ack = self._on_ack
        if self.config.register and self.config.trunk_host:
            self.registration = Registration(self)
            await self.registration.register()
            self._tasks.spawn(self.registration.keep_alive(), "register")
        log.info("sip endpoint started", extra={"port": self.local_port})
        return self

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._tasks.spawn(coro, name)

    def target_uri(self, target: str) -> SipUri:
        """A number on the trunk, or a full ``sip:`` URI."""
        if target.startswith(("sip:", "sips:")):
            return SipUri.parse(target)
        if not self.config.trunk_host:
            raise AddressError("no trunk configured: call a full SIP URI")
        port = self.config.trunk_port if self.config.trunk_port != 5060 else None
        return SipUri(self.config.trunk_host, target, port)

    async def call(self, target: str, ring_timeout_sec: float | None = None) -> SipCall:
        """Starts an outbound call; returns while it rings (see ``SipCall.events``)."""
        uri = self.target_uri(target)
        if self.config.trunk_host:
            hop = (self.config.trunk_host, self.config.trunk_port)
        else:
            hop = uri.address
        call_id = f"{secrets.token_hex(12)}@switchboard"
        stream = await rtp.open_stream(call_id[:8], self.config.bind_host, self.config.rtp_ports)
        call = SipCall(self, call_id, uri.user, stream, lambda c: OutboundInvite(c, uri, hop))
        invite = call.control
        assert isinstance(invite, OutboundInvite)
        self._keep(call)
        timeout = ring_timeout_sec if ring_timeout_sec is not None else self.config.ring_timeout_sec
        call.tasks.spawn(invite.run(timeout), "invite")
        log.info("sip call placed", extra={"call": call.ref, "pii_to": uri.user})
        return call

    async def transfer(self, call: SipCall, target: str) -> str:
        """Blind transfer of ``call``: ``"referred"`` or ``"bridged"``.

        REFER first; when the far end refuses it (or its new call fails) we call
        ``target`` ourselves and relay audio between the two calls. Raises
        :class:`~.call.CallFailed` if neither worked; the call then stays up.
        """
        return await transfer.blind_transfer(self, call, target)

    def _keep(self, call: SipCall) -> None:
        """Routes requests to ``call`` until it ends."""
        self._calls[call.call_id] = call
        call.ended.add_done_callback(lambda _: self._forget(call))

    def _forget(self, call: SipCall) -> None:
        if self._calls.get(call.call_id) is call:
            del self._calls[call.call_id]

    # Requests -----------------------------------------------------------------

    def _on_request(self, request: SipRequest, tx: ServerTransaction) -> None:
        call = self._calls.get(request.call_id)
        if request.method == "CANCEL":
            self._cancelled(request, tx, call)
            return
        to_tag = _tag(request.get("To"))
        if to_tag:
            if call is not None and call.dialog is not None and call.dialog.accepts(request):
                call.handle_request(request, tx)
            else:
                tx.respond(make_response(request, 481))
            return
        if request.method == "INVITE":
            if call is not None:  # a second INVITE (new branch) for a call being set up
                tx.respond(make_response(request, 482 if call.direction == "outbound" else 491))
                return
            self._invited(request, tx)
        elif request.method == "OPTIONS":
            response = make_response(request, 200, new_tag())
            response.add("Allow", ALLOW)
            tx.respond(response)
        else:
            tx.respond(make_response(request, 405, new_tag()))

    def _on_ack(self, request: SipRequest) -> None:
        call = self._calls.get(request.call_id)
        if call is not None and call.dialog is not None:
            call.dialog.accepts(request)

    def _cancelled(self, request: SipRequest, tx: ServerTransaction, call: SipCall | None) -> None:
        if call is None:
            tx.respond(make_response(request, 481))
        else:
            call.control.cancelled(request, tx)

    def _invited(self, request: SipRequest, tx: ServerTransaction) -> None:
        tag = new_tag()
        tx.respond(make_response(request, 100))
        try:
            offer = sdp.parse(request.body)
            if not any(codec in self.config.codecs for _, codec in offer.codecs):
                raise sdp.SdpError("no common codec")
            caller = NameAddr.parse(request.get("From") or "")
        except (sdp.SdpError, AddressError):
            tx.respond(make_response(request, 488, tag))
            return
        self.spawn(self._take_call(request, tx, tag, offer, caller.uri.user), "inbound-call")

    async def _take_call(
        self,
        request: SipRequest,
        tx: ServerTransaction,
        tag: str,
        offer: sdp.MediaOffer,
        caller: str,
    ) -> None:
        try:
            stream = await rtp.open_stream(
                request.call_id[:8], self.config.bind_host, self.config.rtp_ports
            )
        except OSError:
            tx.respond(make_response(request, 503, tag))
            return
        call = SipCall(
            self,
            request.call_id,
            caller,
            stream,
            lambda c: InboundInvite(c, request, tx, offer),
        )
        call.dialog = Dialog.as_callee(request, tag, self.contact)
        self._keep(call)
        log.info("sip call arrived", extra={"call": call.ref, "pii_from": caller})
        if self._on_inbound is not None:
            self._on_inbound(call)
        else:
            self.inbound.put_nowait(call)

    async def close(self) -> None:
        """Ends every call (BYE or CANCEL), unregisters and closes the socket."""
        await asyncio.gather(*(call.hang_up() for call in self.calls), return_exceptions=True)
        for call in self.calls:
            await call.finish("shutdown")
        if self.registration is not None:
            await self.registration.unregister()
        await self._tasks.close()
        if self._transport is not None:
            self._transport.close()


def _tag(header: str | None) -> str:
    try:
        return NameAddr.parse(header or "").tag
    except AddressError:
        return ""
