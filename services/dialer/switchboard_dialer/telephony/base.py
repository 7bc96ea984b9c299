"""The telephony seam: what every provider (simulator, sip, softphone, twilio, acs) offers.

A provider dials out (:meth:`TelephonyProvider.dial` → a :class:`Ring`), reports
inbound calls to the dialer's handler, and gives each connected call a
:class:`PhoneLine`: caller events in, bot output out.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from switchboard import domain
from switchboard.errors import FailedPrecondition

# What happens on the caller's side of a connected line.


@dataclass(frozen=True)
class CallerSaid:
    """One complete caller turn (text mode; the voice pipeline produces these from STT)."""

    text: str


@dataclass(frozen=True)
class CallerDtmf:
    digits: str


@dataclass(frozen=True)
class CallerGone:
    """The caller hung up (``caller_hangup``) or the line dropped (``line_dropped``)."""

    reason: str


CallerEvent = CallerSaid | CallerDtmf | CallerGone


class PhoneLine(ABC):
    """A connected call's line. Text mode now; the voice pipeline adds audio methods."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id

    @abstractmethod
    async def next_event(self) -> CallerEvent:
        """Waits for the caller's next event; after ``CallerGone`` it returns it again."""

    @abstractmethod
    async def say(self, turn_id: str, text: str) -> None:
        """Delivers one bot sentence to the caller."""

    @abstractmethod
    async def turn_done(self, turn_id: str) -> None:
        """The bot finished its turn."""

    @abstractmethod
    async def transfer(self, target: str) -> None:
        """Hands the caller to ``target`` (E.164); the line is ours no more."""

    @abstractmethod
    async def hang_up(self, reason: str) -> None:
        """Ends the call from the bot's side; harmless when the caller is already gone."""

    async def accept(self, call_id: str) -> None:
        """An inbound call was taken as ``call_id``: connect the caller."""
        self.call_id = call_id


class CallNotConnected(Exception):
    """A ring that did not become a call. ``failed``: FAILED (no answer …) rather than ENDED."""

    def __init__(self, reason: str, failed: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failed = failed


class Ring:
    """An outbound call between dialling and answer.

    The provider resolves it with :meth:`answered` or :meth:`fail`; the dialer waits
    with :meth:`wait_answered` or gives up with :meth:`cancel`. ``on_abandon`` lets
    the provider stop the ringing when the dialer gives up.
    """

    def __init__(
        self,
        call_id: str,
        ringing: bool,
        on_abandon: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.call_id = call_id
        self.ringing = ringing
        self._outcome: asyncio.Future[PhoneLine] = asyncio.get_running_loop().create_future()
        self._on_abandon = on_abandon

    def answered(self, line: PhoneLine) -> None:
        if not self._outcome.done():
            self._outcome.set_result(line)

    def fail(self, reason: str, failed: bool = True) -> None:
        if not self._outcome.done():
            self._outcome.set_exception(CallNotConnected(reason, failed))

    @property
    def settled(self) -> bool:
        return self._outcome.done()

    def cancel(self, reason: str) -> None:
        """The dialer hangs up before the answer: the call ends (not a failure)."""
        self.fail(reason, failed=False)

    async def wait_answered(self, timeout_sec: float) -> PhoneLine:
        """The answered line; raises :class:`CallNotConnected` (``no_answer`` on timeout)."""
        try:
            async with asyncio.timeout(timeout_sec):
                return await asyncio.shield(self._outcome)
        except TimeoutError:
            self.fail("no_answer")
        except CallNotConnected:
            pass
        exc = self._outcome.exception()
        if exc is None:  # answered in the same instant the ring timed out
            return self._outcome.result()
        assert isinstance(exc, CallNotConnected)
        if self._on_abandon is not None:
            await self._on_abandon(exc.reason)
        raise exc


# The dialer takes an inbound call: (from, to, line) → the stored call it became.
InboundHandler = Callable[[str, str, PhoneLine], Awaitable[domain.Call]]


class TelephonyProvider(ABC):
    """One vendor's telephony. Chosen by name from ``dialer.telephony``."""

    name: str = ""

    def __init__(self) -> None:
        self._inbound: InboundHandler | None = None

    def on_inbound(self, handler: InboundHandler) -> None:
        """Where inbound calls go; set once by the dialer at startup."""
        self._inbound = handler

    async def take_inbound(self, from_number: str, to_number: str, line: PhoneLine) -> domain.Call:
        if self._inbound is None:
            raise FailedPrecondition("this dialer does not take inbound calls yet")
        return await self._inbound(from_number, to_number, line)

    @abstractmethod
    async def dial(self, call_id: str, to_number: str) -> Ring:
        """Starts an outbound call; returns as soon as dialling started."""

    async def accept_webhook(self, provider_call_id: str) -> PhoneLine:
        """The line of an inbound call a carrier webhook announced (``Dialer.AnswerCall``)."""
        raise FailedPrecondition(
            f"the {self.name} telephony provider has no webhook calls; "
            "its inbound calls arrive on its own channel"
        )

    async def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Releases the provider's resources at shutdown."""
