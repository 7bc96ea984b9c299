"""A number's softphone line passes cleanly from one socket to the next.

A browser that closes its socket and reconnects at once (a page reload, a flaky
network) registers its number again while this gateway is still releasing the old
registration on the dialer: the WebSocket close handshake completes before the
bridge has noticed, let alone closed its ``Dialer.Phone`` stream. Without help the
new registration is refused as already taken. :class:`HandoffExchange` wraps a
:class:`PhoneExchange`: a registration of a number that a stream of this gateway
still holds waits (boundedly) until that stream is closed; a number held elsewhere,
or held here for longer than the wait, is refused by the dialer as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from switchboard.errors import AlreadyExists
from switchboard.tasks import TaskOwner
from switchboard_gateway.phone_link import (
    PhoneDown,
    PhoneExchange,
    PhoneStream,
    PhoneUp,
    TranscriptLine,
)

log = logging.getLogger(__name__)

# How long a registration waits for this gateway's previous line of the same number.
HANDOFF_WAIT_SEC = 3.0
# How often a handed-off number is asked for again while the dialer still holds it.
HANDOFF_RETRY_SEC = 0.05
MAX_RECENT_NUMBERS = 1000


class HandedOffStream:
    """A registered stream whose closing always runs to its end: the dialer releases
    the number even when the socket's task is cancelled while closing it."""

    def __init__(self, inner: PhoneStream, closing: Callable[[], asyncio.Task[None]]) -> None:
        self._inner = inner
        self._closing = closing
        self._closed: asyncio.Task[None] | None = None

    @property
    def number(self) -> str:
        return self._inner.number

    async def send(self, event: PhoneUp) -> None:
        await self._inner.send(event)

    def events(self) -> AsyncIterator[PhoneDown]:
        return self._inner.events()

    async def close(self) -> None:
        if self._closed is None:
            self._closed = self._closing()
        await asyncio.shield(self._closed)


class HandoffExchange:
    """A :class:`PhoneExchange` whose registrations of one number follow each other."""

    def __init__(self, inner: PhoneExchange, wait_sec: float = HANDOFF_WAIT_SEC) -> None:
        self._inner = inner
        self._wait_sec = wait_sec
        # number -> one event per line of it this gateway holds, set once it is closed
        self._held: dict[str, set[asyncio.Event]] = {}
        # number -> loop time its last line here closed; the dialer may not have let go yet
        self._closed_at: dict[str, float] = {}
        self._closings = TaskOwner("softphone-release")

    async def register(self, number: str) -> PhoneStream:
        earlier = list(self._held.get(number, ()))
        if earlier:
            log.info("waiting for the previous line of the number to close")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._wait_sec):
                    for line in earlier:
                        await line.wait()
        released = asyncio.Event()
        self._held.setdefault(number, set()).add(released)
        try:
            closed_at = self._closed_at.pop(number, None)
            recently = closed_at is not None and self._now() - closed_at < self._wait_sec
            stream = await self._register(number, handed_off=bool(earlier) or recently)
        except BaseException:
            self._release(number, released)
            raise
        return HandedOffStream(stream, lambda: self._close_line(stream, number, released))

    async def _register(self, number: str, handed_off: bool) -> PhoneStream:
        """Registers ``number``; after a handoff, retries while the dialer still holds the
        previous line (its release crosses the network after this gateway's close)."""
        deadline = self._now() + self._wait_sec
        while True:
            try:
                return await self._inner.register(number)
            except AlreadyExists:
                if not handed_off or self._now() >= deadline:
                    raise
                await asyncio.sleep(HANDOFF_RETRY_SEC)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def held(self) -> int:
        """How many lines this gateway holds now."""
        return sum(len(lines) for lines in self._held.values())

    def _close_line(
        self, stream: PhoneStream, number: str, released: asyncio.Event
    ) -> asyncio.Task[None]:
        async def close() -> None:
            try:
                await stream.close()
            finally:
                self._release(number, released)

        return self._closings.spawn(close(), "line")

    def _release(self, number: str, released: asyncio.Event) -> None:
        released.set()
        now = self._now()
        self._closed_at[number] = now
        if len(self._closed_at) > MAX_RECENT_NUMBERS:  # forget closings past their wait
            self._closed_at = {n: t for n, t in self._closed_at.items() if now - t < self._wait_sec}
        lines = self._held.get(number)
        if lines is not None:
            lines.discard(released)
            if not lines:
                del self._held[number]

    def transcript(self, call_id: str) -> AsyncIterator[TranscriptLine]:
        return self._inner.transcript(call_id)

    async def close(self) -> None:
        await self._closings.close()
        await self._inner.close()
