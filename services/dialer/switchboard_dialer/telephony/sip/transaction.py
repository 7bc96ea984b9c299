"""SIP transactions over UDP (RFC 3261 §17): retransmission and timeouts.

Client INVITE: Timer A retransmits from T1, doubling, until a provisional response;
Timer B gives up after 64·T1 with a synthetic 408. Client non-INVITE: Timer E from T1,
doubling up to T2; Timer F gives up after 64·T1. A non-2xx final answer to an INVITE is
ACKed here (same branch). Server side: a retransmitted request gets the last response
again, and a final INVITE response is retransmitted (T1 doubling to T2) until its ACK
arrives or 64·T1 pass (RFC 6026 keeps 2xx in the transaction, which is what we do).
Timers are loop callbacks, not tasks: they are cancelled when the transaction ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from switchboard_dialer.telephony.sip.address import NameAddr, new_tag
from switchboard_dialer.telephony.sip.message import SipRequest, SipResponse

ResponseCallback = Callable[[SipResponse], None]
Send = Callable[[bytes, tuple[str, int]], None]


@dataclass(frozen=True)
class Timers:
    """T1, T2 and T4 of RFC 3261 §17; tests shrink them to run in milliseconds."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0


REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}


def make_response(
    request: SipRequest, status: int, to_tag: str = "", reason: str = ""
) -> SipResponse:
    """A response copying the request's Via, From, To (plus our tag), Call-ID and CSeq."""
    response = SipResponse(status=status, reason=reason or REASONS.get(status, "Unknown"))
    for via in request.get_all("Via"):
        response.add("Via", via)
    if (sender := request.get("From")) is not None:
        response.add("From", sender)
    to = request.get("To") or ""
    if to_tag and status != 100:
        try:
            address = NameAddr.parse(to)
            if not address.tag:
                address.params["tag"] = to_tag
                to = str(address)
        except ValueError:
            pass
    for name, value in (("To", to), ("Call-ID", request.call_id), ("CSeq", request.get("CSeq"))):
        if value:  # a 400 may answer a request that lacked one of these
            response.add(name, value)
    if request.method == "INVITE" and 100 < status < 300:
        for route in request.get_all("Record-Route"):
            response.add("Record-Route", route)
    return response


def bad_request(request: SipRequest, reason: str) -> SipResponse:
    return make_response(request, 400, new_tag(), reason=f"Bad Request ({reason})")


class ClientTransaction:
    """One request we sent; ``final`` resolves with the first final response (or a 408)."""

    def __init__(
        self,
        request: SipRequest,
        addr: tuple[str, int],
        send: Send,
        timers: Timers,
        on_response: ResponseCallback | None,
        on_done: Callable[[ClientTransaction], None],
    ) -> None:
        self.request = request
        self.addr = addr
        self._send = send
        self._timers = timers
        self._on_response = on_response
        self._on_done = on_done
        self._loop = asyncio.get_running_loop()
        self.final: asyncio.Future[SipResponse] = self._loop.create_future()
        self._data = request.to_bytes()
        self._interval = timers.t1
        self._provisional = False
        self._retransmit: asyncio.TimerHandle | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self._ack: bytes | None = None

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"

    def start(self) -> None:
        self._send(self._data, self.addr)
        self._retransmit = self._loop.call_later(self._interval, self._resend)
        self._timeout = self._loop.call_later(64 * self._timers.t1, self._timed_out)

    def _resend(self) -> None:
        self._send(self._data, self.addr)
        if self.is_invite:
            self._interval *= 2  # Timer A: no cap
        else:
            self._interval = (
                self._timers.t2 if self._provisional else min(2 * self._interval, self._timers.t2)
            )
        self._retransmit = self._loop.call_later(self._interval, self._resend)

    def _timed_out(self) -> None:
        self._stop_retransmitting()
        if not self.final.done():
            timeout = make_response(self.request, 408, reason="Request Timeout (no response)")
            self.final.set_result(timeout)
        self._on_done(self)

    def _stop_retransmitting(self) -> None:
        if self._retransmit is not None:
            self._retransmit.cancel()
            self._retransmit = None

    def receive(self, response: SipResponse) -> None:
        if response.status < 200:
            if self.final.done():
                return
            self._provisional = True
            if self.is_invite:
                self._stop_retransmitting()  # Timer A stops; Timer B still runs
            if self._on_response is not None:
                self._on_response(response)
            return
        self._stop_retransmitting()
        if self.is_invite and response.status >= 300:
            if self._ack is None:
                self._ack = self._build_ack(response).to_bytes()
            self._send(self._ack, self.addr)  # also answers retransmitted finals
        first = not self.final.done()
        if first:
            self.final.set_result(response)
        if self._on_response is not None and (first or (self.is_invite and response.status < 300)):
            self._on_response(response)  # a retransmitted 2xx is re-ACKed by the dialog
        if first:
            if self._timeout is not None:
                self._timeout.cancel()
            # Keep absorbing retransmissions for a while (Timers D/K, RFC 6026 Timer M).
            linger = 64 * self._timers.t1 if self.is_invite else self._timers.t4
            self._timeout = self._loop.call_later(linger, lambda: self._on_done(self))

    def _build_ack(self, response: SipResponse) -> SipRequest:
        ack = SipRequest(method="ACK", uri=self.request.uri)
        ack.add("Via", self.request.get_all("Via")[0])
        for route in self.request.get_all("Route"):
            ack.add("Route", route)
        ack.add("Max-Forwards", "70")
        ack.add("From", self.request.get("From") or "")
        ack.add("To", response.get("To") or "")
        ack.add("Call-ID", self.request.call_id)
        ack.add("CSeq", f"{self.request.cseq[0]} ACK")
        return ack

    def close(self) -> None:
        self._stop_retransmitting()
        if self._timeout is not None:
            self._timeout.cancel()
        if not self.final.done():
            self.final.cancel()


class ServerTransaction:
    """One request we received: answers retransmissions with the last response."""

    def __init__(
        self,
        request: SipRequest,
        addr: tuple[str, int],
        send: Send,
        timers: Timers,
        on_done: Callable[[ServerTransaction], None],
    ) -> None:
        self.request = request
        self.addr = addr
        self._send = send
        self._timers = timers
        self._on_done = on_done
        self._loop = asyncio.get_running_loop()
        self.last: bytes | None = None
        self.final_status = 0
        self.acked: asyncio.Future[bool] = self._loop.create_future()
        self._retransmit: asyncio.TimerHandle | None = None
        self._timeout: asyncio.TimerHandle | None = None
        self._interval = timers.t1

    def respond(self, response: SipResponse) -> None:
        if self.final_status:
            return  # a transaction has one final response
        self.last = response.to_bytes()
        self._send(self.last, self.addr)
        if response.status < 200:
            return
        self.final_status = response.status
        if self.request.method == "INVITE":
            self._retransmit = self._loop.call_later(self._interval, self._resend)
            self._timeout = self._loop.call_later(64 * self._timers.t1, self._ack_timed_out)
        else:
            self._timeout = self._loop.call_later(64 * self._timers.t1, self.close)

    def _resend(self) -> None:
        if self.last is not None:
            self._send(self.last, self.addr)
        self._interval = min(2 * self._interval, self._timers.t2)
        self._retransmit = self._loop.call_later(self._interval, self._resend)

    def _ack_timed_out(self) -> None:
        if not self.acked.done():
            self.acked.set_result(False)
        self.close()

    def retransmitted(self) -> None:
        """The same request arrived again: resend what we last said."""
        if self.last is not None:
            self._send(self.last, self.addr)

    def ack(self) -> None:
        if self._retransmit is not None:
            self._retransmit.cancel()
            self._retransmit = None
        if not self.acked.done():
            self.acked.set_result(True)
        if self._timeout is not None:
            self._timeout.cancel()
        # Timer I: absorb ACK retransmissions for T4, then forget the transaction.
        self._timeout = self._loop.call_later(self._timers.t4, self.close)

    def close(self) -> None:
        for handle in (self._retransmit, self._timeout):
            if handle is not None:
                handle.cancel()
        if not self.acked.done():
            self.acked.set_result(False)
        self._on_done(self)
