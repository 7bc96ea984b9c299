"""The SIP user agent: one UDP socket, outbound and inbound calls, optional registration.

The endpoint is the top of the stack: it implements :class:`~.context.SipContext` for the
procedures below it, builds each call with its direction's control (``uac`` or ``uas``)
and routes incoming requests to the call they belong to.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from switchboard.tasks import TaskOwner
from switchboard_dialer.telephony.sip import rtp, sdp, transfer
from switchboard_dialer.telephony.sip.address import AddressError, NameAddr, SipUri, new_tag
from switchboard_dialer.telephony.sip.admission import (
    Credentials,
    InboundGate,
    Network,
    networks,
)
from switchboard_dialer.telephony.sip.call import SipCall
from switchboard_dialer.telephony.sip.config import SipConfig
from switchboard_dialer.telephony.sip.context import ALLOW
from switchboard_dialer.telephony.sip.dialog import Dialog
from switchboard_dialer.telephony.sip.log_budget import LogBudget
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse
from switchboard_dialer.telephony.sip.registration import Registration
from switchboard_dialer.telephony.sip.transaction import ServerTransaction, make_response
from switchboard_dialer.telephony.sip.transport import SipTransport
from switchboard_dialer.telephony.sip.uac import OutboundInvite
from switchboard_dialer.telephony.sip.uas import InboundInvite, screen_invite

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
        self._pending: set[str] = set()  # Call-IDs of INVITEs waiting for their RTP port
        self._gate: InboundGate | None = None
        self._refusals_logged = LogBudget()  # a stranger's flood is one line per 10 s
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
        self._gate = InboundGate(
            self.config.inbound, await self._trusted_networks(), self._inbound_credentials()
        )
        if not self._gate.open:
            log.warning("sip inbound calls are refused: no trusted source and no digest set")
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

    async def _trusted_networks(self) -> tuple[Network, ...]:
        """The policy's networks, else the trunk host's addresses (resolved once, here)."""
        policy = self.config.inbound
        if policy.sources or not self.config.trunk_host:
            return networks(policy.sources)
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                self.config.trunk_host, None, type=socket.SOCK_DGRAM
            )
        except OSError:
            log.warning("sip trunk host does not resolve: no trusted inbound source")
            return ()
        return networks(sorted({str(info[4][0]) for info in found}))

    def _inbound_credentials(self) -> Credentials:
        config = self.config
        realm = config.domain or config.trunk_host or config.user_agent
        return Credentials(realm, config.auth_user or config.user, config.password)

    @property
    def gate(self) -> InboundGate:
        """The admission of inbound calls (trusted sources, digest, call caps)."""
        if self._gate is None:
            raise RuntimeError("SipEndpoint.start() was not called")
        return self._gate

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
        if required := request.get_all("Require"):  # we support no extension (RFC 3261 §8.2.2.3)
            response = make_response(request, 420, new_tag())
            response.add("Unsupported", ", ".join(required))
            tx.respond(response)
            return
        to_tag = _tag(request.get("To"))
        if to_tag:
            if call is not None and call.dialog is not None and call.dialog.accepts(request):
                call.handle_request(request, tx)
            else:
                tx.respond(make_response(request, 481))
            return
        if request.method == "INVITE":
            if call is None and request.call_id in self._pending:
                tx.respond(make_response(request, 491))
                return
            if call is not None:  # a second INVITE (new branch) for a call being set up
                tx.respond(make_response(request, 482 if call.direction == "outbound" else 491))
                return
            self._invited(request, tx)
        elif request.method == "OPTIONS":
            response = make_response(request, 200, new_tag())
            response.add("Allow", ALLOW)
            tx.respond(response)
        else:
            response = make_response(request, 405, new_tag())
            response.add("Allow", ALLOW)
            tx.respond(response)

    def _on_ack(self, request: SipRequest) -> None:
        call = self._calls.get(request.call_id)
        if call is not None and call.dialog is not None:
            call.dialog.accepts(request)

    def _cancelled(self, request: SipRequest, tx: ServerTransaction, call: SipCall | None) -> None:
        if call is not None:
            call.control.cancelled(request, tx)
            return
        invite = self.transport.find_invite(request.call_id, request.cseq[0])
        pending = request.call_id in self._pending
        if invite is None or not pending or invite.addr[0] != tx.addr[0]:
            tx.respond(make_response(request, 481))
            return
        # Cancelled while its RTP port is being bound: _take_call sees the final answer.
        tx.respond(make_response(request, 200, new_tag()))
        invite.respond(make_response(invite.request, 487, new_tag()))

    def _invited(self, request: SipRequest, tx: ServerTransaction) -> None:
        source = tx.addr[0]
        screened = screen_invite(request, source, self.gate, self.contact, self.config.codecs)
        if isinstance(screened, SipResponse):
            refused = screened.status in (401, 403, 503)
            unlogged = self._refusals_logged.spend(source) if refused else None
            if unlogged is not None:
                log.info(
                    "sip inbound call refused",
                    extra={
                        "status": screened.status,
                        "unlogged_before": unlogged,
                        "pii_source": source,
                    },
                )
            tx.respond(screened)
            return
        dialog, offer = screened
        tx.respond(make_response(request, 100))
        self._pending.add(request.call_id)
        self.gate.taken(source)
        self.spawn(self._take_call(request, tx, dialog, offer), "inbound-call")

    async def _take_call(
        self,
        request: SipRequest,
        tx: ServerTransaction,
        dialog: Dialog,
        offer: sdp.MediaOffer,
    ) -> None:
        source = tx.addr[0]
        try:
            stream = await rtp.open_stream(
                request.call_id[:8], self.config.bind_host, self.config.rtp_ports
            )
        except BaseException as exc:
            self.gate.released(source)
            if isinstance(exc, OSError):  # no free RTP port
                tx.respond(make_response(request, 503, dialog.local.tag))
                return
            raise
        finally:
            self._pending.discard(request.call_id)
        if tx.final_status:  # cancelled meanwhile
            self.gate.released(source)
            await stream.close()
            return
        call = SipCall(
            self,
            request.call_id,
            dialog.remote.uri.user,
            stream,
            lambda c: InboundInvite(c, request, tx, offer),
        )
        call.dialog = dialog
        call.media_allowed = lambda host: self.gate.media_allowed(host, source)
        call.ended.add_done_callback(lambda _: self.gate.released(source))
        self._keep(call)
        invite = call.control
        assert isinstance(invite, InboundInvite)
        call.tasks.spawn(invite.expire(self.config.ring_timeout_sec), "answer-timeout")
        caller = call.remote_user
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
