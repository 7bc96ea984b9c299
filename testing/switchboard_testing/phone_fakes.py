"""A fake dialer line for the softphone bridge: the same protocols as the gRPC one.

The app under ``TestClient`` runs its own event loop in another thread, so the
test thread reaches the fake's queues only through ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable

from switchboard.errors import AlreadyExists, SwitchboardError
from switchboard_gateway.phone_link import PhoneDown, PhoneUp, TranscriptLine


def eventually(check: Callable[[], bool], timeout_sec: float = 3.0) -> None:
    """Waits until ``check()`` holds (the app runs in another thread)."""
    deadline = time.monotonic() + timeout_sec
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.005)


class FakePhoneStream:
    """One registered number: records what the bridge sends, replays what the test pushes."""

    def __init__(self, number: str, exchange: FakePhoneExchange) -> None:
        self._number = number
        self._exchange = exchange
        self._loop = asyncio.get_running_loop()
        self._downlink: asyncio.Queue[PhoneDown | SwitchboardError | None] = asyncio.Queue()
        self.sent: list[PhoneUp] = []
        self.closed = threading.Event()

    @property
    def number(self) -> str:
        return self._number

    async def send(self, event: PhoneUp) -> None:
        self.sent.append(event)

    async def events(self) -> AsyncIterator[PhoneDown]:
        while (event := await self._downlink.get()) is not None:
            if isinstance(event, SwitchboardError):
                raise event
            yield event

    async def close(self) -> None:
        # The dialer takes a moment to release the number, as over gRPC.
        await asyncio.sleep(self._exchange.release_delay_sec)
        later = self._exchange.release_after_close_sec
        if later:
            self._loop.call_later(later, self._exchange.unregister, self)
        else:
            self._exchange.unregister(self)
        self.closed.set()

    def push(self, event: PhoneDown | SwitchboardError | None) -> None:
        """From the test thread: the dialer sends ``event`` (None ends the stream)."""
        self._loop.call_soon_threadsafe(self._downlink.put_nowait, event)


class FakePhoneExchange:
    """Numbers register once each; ``fail_with`` makes the next registration fail."""

    def __init__(self) -> None:
        self.phones: dict[str, FakePhoneStream] = {}
        self.fail_with: SwitchboardError | None = None
        self.release_delay_sec = 0.0
        # The number is released this long after close returned (the dialer's release
        # crossing the network after the gateway's stream has gone).
        self.release_after_close_sec = 0.0
        self.registrations = 0
        self.refusals = 0  # registrations refused because the number was taken
        self._lock = threading.Lock()
        self._transcripts: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue[object]]] = {}
        self.closed = False

    async def register(self, number: str) -> FakePhoneStream:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            if number in self.phones:
                self.refusals += 1
                raise AlreadyExists("a phone is already registered with this number")
            stream = FakePhoneStream(number, self)
            self.phones[number] = stream
            self.registrations += 1
        return stream

    def unregister(self, stream: FakePhoneStream) -> None:
        with self._lock:
            if self.phones.get(stream.number) is stream:
                del self.phones[stream.number]

    def phone(self, number: str) -> FakePhoneStream:
        """The registered stream of ``number``, once the bridge has registered it."""
        eventually(lambda: number in self.phones)
        return self.phones[number]

    async def transcript(self, call_id: str) -> AsyncIterator[TranscriptLine]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._transcripts[call_id] = (asyncio.get_running_loop(), queue)
        while isinstance(line := await queue.get(), TranscriptLine):
            yield line

    def say(self, call_id: str, line: TranscriptLine) -> None:
        """From the test thread: the store saved a message of ``call_id``."""
        eventually(lambda: call_id in self._transcripts)
        loop, queue = self._transcripts[call_id]
        loop.call_soon_threadsafe(queue.put_nowait, line)

    async def close(self) -> None:
        self.closed = True
