"""Connections whose request headers do not arrive in time are dropped.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits for
ever on a connection that never sends, or sends half a request line: a thousand
such sockets are a thousand held file descriptors (slowloris). This protocol
starts a timer when a connection opens and when the first byte of each later
request arrives, and stops it once that request's headers are parsed; if it
fires first, the connection is closed. Bodies, idle kept-alive connections and
WebSocket sessions are not limited by it (they have their own limits).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT_SEC = 10.0


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers."""

    header_timeout_sec: ClassVar[float] = DEFAULT_HEADER_TIMEOUT_SEC

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the first bytes of a new request on a kept-alive line
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        # Runs after each read and after each response (pipelined requests).
        if self.conn.their_state is not h11.IDLE:
            self._disarm_header_timer()  # this request's headers are in: no deadline now
        elif self._header_timer is None and self.conn.trailing_data[0]:
            self._arm_header_timer()  # a pipelined request started but is not complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_sec, self._headers_late)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        # h11 leaves IDLE once a request's headers are parsed; still IDLE: they are late.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class to hand uvicorn (``Config(http=...)``), with this deadline."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_sec": seconds})
