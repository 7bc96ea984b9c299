"""The SIP UDP socket: parses datagrams, answers bad ones, routes to transactions.

Nothing a peer sends can break the endpoint: unreadable datagrams are dropped, or
answered with 400 when they carried enough headers to route a response (416 for a
Request-URI that is not SIP); an exception while handling one request is a bug: it is
logged and answered with 500 through the request's transaction, so the transaction is
still freed by its timers, and other calls go on. Past ``MAX_SERVER_TRANSACTIONS`` (a
flood) new requests are answered 503 without keeping any state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

from switchboard_dialer.telephony.sip.address import (
    BRANCH_MAGIC,
    AddressError,
    SipUri,
    Via,
    new_branch,
    new_tag,
)
from switchboard_dialer.telephony.sip.log_budget import LogBudget
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

# Each lingers 64·T1 (32 s) after its answer: 5,000 is far above any real call rate.
MAX_SERVER_TRANSACTIONS = 5_000


class SipTransport(asyncio.DatagramProtocol):
    """One UDP socket and the transactions running over it."""

    def __init__(self, timers: Timers) -> None:
        self.timers = timers
        self._transport: asyncio.DatagramTransport | None = None
        self._client: dict[tuple[str, str], ClientTransaction] = {}
        # (branch, method, source): a request from elsewhere with a copied branch is another
        # request, not a retransmission (a stranger's CANCEL must not absorb the caller's).
        self._server: dict[tuple[str, str, tuple[str, int]], ServerTransaction] = {}
        self._invites: dict[tuple[str, int], ServerTransaction] = {}  # (Call-ID, CSeq) → tx
        self.on_request: RequestHandler | None = None
        self.on_stray_response: StrayHandler | None = None
        self.on_ack: AckHandler | None = None
        self.bad_datagrams = 0
        self._log_budget = LogBudget()

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
        key = (_branch(tx.request), tx.request.method, tx.addr)
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
        if isinstance(message, SipResponse):
            try:
                self._route_response(message)
            except Exception:
                log.exception("sip response handling failed")
        else:
            self._route_request(message, addr)

    def _reject(self, exc: SipParseError, addr: tuple[str, int]) -> None:
        self.bad_datagrams += 1
        partial = exc.partial
        # A Via is all a 400 needs to find its way back (the client matches its branch).
        routable = partial is not None and partial.method != "ACK" and bool(partial.get("Via"))
        unlogged = self._log_budget.spend(addr[0])
        if unlogged is not None:
            log.info(
                "sip datagram rejected",
                extra={
                    "problem": exc.reason,
                    "answered": routable,
                    "unlogged_before": unlogged,
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
        problem = _unroutable(request)
        if problem is not None:
            self._reject(SipParseError(problem, request), addr)
            return
        if _scheme(request.uri) not in ("sip", "sips"):
            if request.method != "ACK":
                self.send(make_response(request, 416, new_tag()).to_bytes(), addr)
            return
        if request.method == "ACK":
            invite = self._invites.get((request.call_id, request.cseq[0]))
            answered = invite is not None and 200 <= invite.final_status < 300
            # The ACK of a non-2xx answer is hop by hop: only the INVITE's sender sends it.
            if invite is not None and (answered or invite.addr[0] == addr[0]):
                invite.ack()
            if (invite is None or answered) and self.on_ack is not None:
                self.on_ack(request)
            return
        key = (_branch(request), request.method, addr)
        existing = self._server.get(key)
        if existing is not None:
            existing.retransmitted()
            return
        if len(self._server) >= MAX_SERVER_TRANSACTIONS or self.on_request is None:
            self.send(make_response(request, 503, new_tag()).to_bytes(), addr)
            return
        tx = ServerTransaction(request, addr, self.send, self.timers, self._server_done)
        self._server[key] = tx
        if request.method == "INVITE":
            self._invites[(request.call_id, request.cseq[0])] = tx
        try:
            self.on_request(request, tx)
        except Exception:
            log.exception("sip request handling failed", extra={"method": request.method})
            tx.respond(make_response(request, 500, new_tag()))

    @property
    def live_transactions(self) -> int:
        """Transactions still held (client and server): zero once all have ended."""
        return len(self._client) + len(self._server) + len(self._invites)

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
    """The key of a request's transaction: its branch, or RFC 2543's fields without one."""
    top = request.get_all("Via")[0]
    branch = Via.parse(top).branch
    if branch.startswith(BRANCH_MAGIC):
        return branch
    return f"2543|{request.uri}|{request.call_id}|{request.cseq[0]}|{top}"


def _unroutable(request: SipRequest) -> str | None:
    """Why a parsed request cannot be served (answered 400), or ``None``."""
    try:
        for via in request.get_all("Via"):
            Via.parse(via)
    except AddressError:
        return "bad Via"
    if not request.get_all("Via"):
        return "missing Via"
    scheme = _scheme(request.uri)
    if scheme is None or "<" in request.uri or ">" in request.uri:
        return "bad Request-URI"
    if scheme in ("sip", "sips"):
        try:
            uri = SipUri.parse(request.uri)
        except AddressError:
            return "bad Request-URI"
        if uri.headers:  # headers belong in the message, not in its Request-URI
            return "headers in the Request-URI"
    return None


def _scheme(uri: str) -> str | None:
    scheme, colon, rest = uri.partition(":")
    if not colon or not rest or not scheme[:1].isalpha() or not scheme.isascii():
        return None
    if not all(c.isalnum() or c in "+-." for c in scheme):
        return None
    return scheme.lower()
