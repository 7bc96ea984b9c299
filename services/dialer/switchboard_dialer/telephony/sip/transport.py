"""The SIP UDP socket: parses datagrams, answers bad ones, routes to transactions.

Nothing a peer sends can break the endpoint: unreadable datagrams are dropped, or
answered with 400 when they carried enough headers to route a response; an exception
while handling one request is answered with 500 and logged, and other calls go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from switchboard_dialer.telephony.sip.address import Via, new_branch
from switchboard_dialer.telephony.sip.message import SipParseError, SipRequest, SipResponse, parse
from switchboard_dialer.telephony.sip.transaction import (
    ClientTransaction,
    ResponseCallback,
    ServerTransaction,
    Timers,
    bad_request,
    make_response,
)

log = logging.getLogger(__name__)

RequestHandler = Callable[[SipRequest, ServerTransaction], None]
StrayHandler = Callable[[SipResponse], None]
AckHandler = Callable[[SipRequest], None]


class SipTransport(asyncio.DatagramProtocol):
    """One UDP socket and the transactions running over it."""

    def __init__(self, timers: Timers) -> None:
        self.timers = timers
        self._transport: asyncio.DatagramTransport | None = None
        self._client: dict[tuple[str, str], ClientTransaction] = {}
        self._server: dict[tuple[str, str], ServerTransaction] = {}
        self._invites: dict[tuple[str, int], ServerTransaction] = {}  # (Call-ID, CSeq) → tx
        self.on_request: RequestHandler | None = None
        self.on_stray_response: StrayHandler | None = None
        self.on_ack: AckHandler | None = None
        self.bad_datagrams = 0

    @property
    def local(self) -> tuple[str, int]:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector transport does not subclass DatagramTransport, but is one.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    def via(self) -> str:
        host, port = self.local
        return f"SIP/2.0/UDP {host}:{port};branch={new_branch()};rport"

    def request(
        self,
        request: SipRequest,
        addr: tuple[str, int],
        on_response: ResponseCallback | None = None,
    ) -> ClientTransaction:
        """Sends ``request`` in a new client transaction (its top Via must carry a branch)."""
        branch = Via.parse(request.get_all("Via")[0]).branch
        tx = ClientTransaction(
            request, addr, self.send, self.timers, on_response, self._client_done
        )
        self._client[(branch, request.method)] = tx
        tx.start()
        return tx

    def _client_done(self, tx: ClientTransaction) -> None:
        branch = Via.parse(tx.request.get_all("Via")[0]).branch
        if self._client.get((branch, tx.request.method)) is tx:
            del self._client[(branch, tx.request.method)]

    def _server_done(self, tx: ServerTransaction) -> None:
        key = (_branch(tx.request), tx.request.method)
        if self._server.get(key) is tx:
            del self._server[key]
        invite_key = (tx.request.call_id, tx.request.cseq[0])
        if self._invites.get(invite_key) is tx:
            del self._invites[invite_key]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data in (b"\r\n\r\n", b"\r\n"):  # RFC 5626 keep-alive
            return
        try:
            message = parse(data)
        except SipParseError as exc:
            self._reject(exc, addr)
            return
        try:
            if isinstance(message, SipResponse):
                self._route_response(message)
            else:
                self._route_request(message, addr)
        except Exception:
            log.exception("sip message handling failed")
            if isinstance(message, SipRequest) and message.method != "ACK":
                self.send(make_response(message, 500).to_bytes(), addr)

    def _reject(self, exc: SipParseError, addr: tuple[str, int]) -> None:
        self.bad_datagrams += 1
        partial = exc.partial
        # A Via is all a 400 needs to find its way back (the client matches its branch).
        routable = partial is not None and partial.method != "ACK" and bool(partial.get("Via"))
        log.info(
            "sip datagram rejected",
            extra={
                "problem": exc.reason,
                "answered": routable,
                "pii_source": f"{addr[0]}:{addr[1]}",
            },
        )
        if routable and partial is not None:
            self.send(bad_request(partial, exc.reason).to_bytes(), addr)

    def _route_response(self, response: SipResponse) -> None:
        try:
            branch = Via.parse(response.get_all("Via")[0]).branch
        except ValueError:
            return
        tx = self._client.get((branch, response.cseq[1]))
        if tx is not None:
            tx.receive(response)
        elif self.on_stray_response is not None:
            self.on_stray_response(response)

    def _route_request(self, request: SipRequest, addr: tuple[str, int]) -> None:
        try:
            Via.parse(request.get_all("Via")[0])
        except ValueError:
            self._reject(SipParseError("bad Via", request), addr)
            return
        if request.method == "ACK":
            invite = self._invites.get((request.call_id, request.cseq[0]))
            if invite is not None:
                invite.ack()
            if invite is None or 200 <= invite.final_status < 300:
                if self.on_ack is not None:
                    self.on_ack(request)
            return
        key = (_branch(request), request.method)
        existing = self._server.get(key)
        if existing is not None:
            existing.retransmitted()
            return
        tx = ServerTransaction(request, addr, self.send, self.timers, self._server_done)
        self._server[key] = tx
        if request.method == "INVITE":
            self._invites[(request.call_id, request.cseq[0])] = tx
        if self.on_request is None:
            tx.respond(make_response(request, 503))
            return
        self.on_request(request, tx)

    def find_invite(self, call_id: str, cseq: int) -> ServerTransaction | None:
        return self._invites.get((call_id, cseq))

    def close(self) -> None:
        for client in list(self._client.values()):
            client.close()
        for server in list(self._server.values()):
            server.close()
        if self._transport is not None:
            self._transport.close()


def _branch(request: SipRequest) -> str:
    vias = request.get_all("Via")
    try:
        return Via.parse(vias[0]).branch if vias else ""
    except ValueError:
        return vias[0]
