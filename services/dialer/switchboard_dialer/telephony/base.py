"""The telephony seam: what every provider (simulator, sip, softphone, twilio, acs) offers.

A provider dials out (:meth:`TelephonyProvider.dial` → a :class:`Ring`), reports
inbound calls to the dialer's handler, and gives each connected call a
:class:`PhoneLine`: caller events in, bot output out.

A line is a text line (the simulator's text mode: whole turns as text) or a
voice line (``sample_rate`` 8000 or 16000): caller audio comes in as 20 ms PCM16
little-endian mono frames (:meth:`PhoneLine.read_frame`), bot audio goes out the
same way (:meth:`PhoneLine.play_frame`), already paced in real time by the
dialer, and :meth:`PhoneLine.clear_audio` drops whatever the carrier still has
queued (barge-in: Twilio ``clear``, ACS ``StopAudio``, the simulator's
``ClearAudio``). Carrier codecs (µ-law, A-law, 24 kHz PCM) are converted inside
the provider, so the rest of the dialer only ever sees PCM16 at the line's rate.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from switchboard import domain
from switchboard.clock import Clock, SystemClock
from switchboard.errors import FailedPrecondition
from switchboard.media import FRAME_MS, frame_bytes, frames_of
from switchboard.phone import AudioFrame, PhoneAttach, PhoneDownlink, PhoneUplink
from switchboard.tasks import wait_on_clock

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
    """The caller is no longer on this line: hung up (``caller_hangup``), handed to
    someone else by a completed transfer (``transferred``) or lost (``line_dropped``)."""

    reason: str


CallerEvent = CallerSaid | CallerDtmf | CallerGone


class PhoneLine(ABC):
    """A connected call's line.

    Every line has the control methods (events, turn boundaries, transfer, hang-up).
    A voice line also sets ``sample_rate`` and implements the three audio methods;
    a text line keeps ``sample_rate = 0`` and implements ``say`` instead.
    """

    def __init__(self, call_id: str, sample_rate: int = 0) -> None:
        self.call_id = call_id
        # 0: a text line; 8000 (PSTN) or 16000 (wideband): a voice line at that rate.
        self.sample_rate = sample_rate
        # How fast the dialer paces bot audio, relative to real time. Only simulated
        # phones ask for more than 1 (tests); a carrier always plays in real time.
        self.playout_speed = 1.0

    @property
    def is_voice(self) -> bool:
        return self.sample_rate > 0

    async def read_frame(self) -> bytes | None:
        """The caller's next 20 ms frame; None once the caller is gone (voice lines).

        Frames arrive at the carrier's pace; a provider keeps at most a second of
        them if the dialer falls behind (older ones are dropped, not delayed).
        """
        raise NotImplementedError(f"{type(self).__name__} is not a voice line")

    def play_frame(self, pcm: bytes) -> None:
        """Sends one 20 ms bot frame (voice lines). Must not block: the dialer calls it
        on its playout deadlines, so the carrier needs only a frame or two of buffer."""
        raise NotImplementedError(f"{type(self).__name__} is not a voice line")

    def clear_audio(self) -> None:
        """Drops every bot frame still queued on the carrier side, now (barge-in)."""
        raise NotImplementedError(f"{type(self).__name__} is not a voice line")

    def sentence_played(  # noqa: B027 - optional hook
        self, turn_id: str, index: int, text: str
    ) -> None:
        """The last frame of bot sentence ``text`` was just played (voice lines: a carrier
        that can confirm playback, like Twilio's marks, or a phone that shows the words as
        they are heard, is told here)."""

    @abstractmethod
    async def next_event(self) -> CallerEvent:
        """Waits for the caller's next event; after ``CallerGone`` it returns it again."""

    @abstractmethod
    async def say(self, turn_id: str, text: str) -> None:
        """Delivers one bot sentence to the caller (text lines; voice lines may ignore it)."""

    @abstractmethod
    async def turn_done(self, turn_id: str) -> None:
        """The bot finished its turn (on a voice line: its last frame was played)."""

    @abstractmethod
    async def transfer(self, target: str) -> None:
        """Hands the caller to ``target`` (E.164); the line is ours no more."""

    @abstractmethod
    async def hang_up(self, reason: str) -> None:
        """Ends the call from the bot's side; harmless when the caller is already gone."""

    async def accept(self, call_id: str) -> None:
        """An inbound call was taken as ``call_id``: connect the caller."""
        self.call_id = call_id

    async def send_dtmf(self, digits: str) -> None:
        """Presses ``digits`` (validated 0-9, *, #, A-D) on the line, as the bot (a menu's
        keys). A line that cannot raises ``FailedPrecondition`` saying why."""
        raise FailedPrecondition(f"{type(self).__name__} cannot send touch tones")


# Caller frames a queued line keeps when the dialer falls behind (1 s); older ones are dropped.
MAX_QUEUED_FRAMES = 50


class QueuedCallerLine(PhoneLine):
    """A line whose provider pushes the caller's side to it: events through
    :meth:`caller`, 20 ms frames through :meth:`caller_frames`, both queued here until
    the dialer reads them (the simulator, Twilio and ACS lines).

    ``CallerGone`` is final: later events are ignored, :meth:`read_frame` returns None
    once the queued frames are read, and :meth:`next_event` returns it again. A line
    whose ending means more (finishing the carrier call, settling a pending transfer)
    does it in :meth:`_caller_left`.
    """

    def __init__(self, call_id: str, sample_rate: int = 0) -> None:
        super().__init__(call_id, sample_rate)
        self._events: asyncio.Queue[CallerEvent] = asyncio.Queue()
        self._gone: CallerGone | None = None
        self._frames: deque[bytes] = deque(maxlen=MAX_QUEUED_FRAMES)
        self._frame_ready = asyncio.Event()
        self._frame_bytes = frame_bytes(sample_rate)
        self._out_seq = 0

    @property
    def gone(self) -> bool:
        """Whether the caller is gone (``CallerGone`` arrived)."""
        return self._gone is not None

    async def read_frame(self) -> bytes | None:
        while not self._frames:
            if self._gone is not None:
                return None
            self._frame_ready.clear()
            await self._frame_ready.wait()
        return self._frames.popleft()

    def caller_frames(self, pcm: bytes) -> None:
        """One or more whole 20 ms caller frames at the line's rate, checked by the
        provider (a carrier may send a few a message)."""
        if len(pcm) == self._frame_bytes:
            self._frames.append(pcm)
        else:
            self._frames.extend(frames_of(pcm, self.sample_rate))
        self._frame_ready.set()

    def caller(self, event: CallerEvent) -> None:
        """Something that happened on the caller's side; ``CallerGone`` is final."""
        if self._gone is not None:
            return
        if isinstance(event, CallerGone):
            self._gone = event
            self._frame_ready.set()
            self._caller_left(event)
        self._events.put_nowait(event)

    def _caller_left(self, event: CallerGone) -> None:
        """The caller just left (once per line, before the event is queued)."""

    async def next_event(self) -> CallerEvent:
        if self._gone is not None and self._events.empty():
            return self._gone
        return await self._events.get()

    def next_audio_frame(self, pcm: bytes) -> AudioFrame:
        """``pcm`` as the line's next numbered bot frame, timed from the first."""
        self._out_seq += 1
        return AudioFrame(
            pcm, self._out_seq, self._out_seq * FRAME_MS, self.sample_rate, self.call_id
        )


def drop_queued_audio(downlink: asyncio.Queue[PhoneDownlink | None]) -> None:
    """Drops the bot frames still queued for the other end (barge-in), keeping every
    other message, and the end mark, in order."""
    kept = []
    while not downlink.empty():
        item = downlink.get_nowait()
        if not isinstance(item, AudioFrame):
            kept.append(item)
    for item in kept:
        downlink.put_nowait(item)


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
        sample_rate: int = 0,
    ) -> None:
        self.call_id = call_id
        self.ringing = ringing
        # The rate of the voice line this ring will become (0: a text line). Knowing it
        # at dial time lets the dialer synthesise the greeting while the phone rings.
        self.sample_rate = sample_rate
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

    async def wait_answered(self, timeout_sec: float, clock: Clock | None = None) -> PhoneLine:
        """The answered line; raises :class:`CallNotConnected` (``no_answer`` when
        ``timeout_sec`` of ``clock`` time passed first)."""
        try:
            return await wait_on_clock(self._outcome, timeout_sec, clock or SystemClock())
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


@dataclass(frozen=True)
class CarrierOutcome:
    """What a carrier's callback did: ``accepted`` counts the events acted on (stale,
    replayed or unknown ones are not); ``answered_by`` is set the first time a
    machine-detection result arrives, for the dialer to store."""

    accepted: int
    answered_by: str = ""


# The dialer takes an inbound call: (from, to, line) → the stored call it became.
InboundHandler = Callable[[str, str, PhoneLine], Awaitable[domain.Call]]


class TelephonyProvider(ABC):
    """One vendor's telephony. Chosen by name from ``dialer.telephony``."""

    name: str = ""
    # Whether its lines implement :meth:`PhoneLine.send_dtmf` (the brain offers the
    # bot its keypad only then).
    sends_dtmf: bool = False

    def __init__(self) -> None:
        self._inbound: InboundHandler | None = None
        # ``dialer.advertise_address``: carriers' URLs for this replica's calls carry it.
        self.advertise_address = ""

    async def start(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Acquires the provider's resources (sockets, registrations) at startup.

        The dialer awaits it once, after setting the inbound handler and before it
        serves: a provider that cannot start fails the process at boot, not the first call.
        """

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

    async def attach_media(self, attach: PhoneAttach) -> MediaEndpoint:
        """A carrier's media socket, reached at the gateway, for one of this provider's calls."""
        raise FailedPrecondition(f"the {self.name} telephony provider has no carrier media sockets")

    async def webhook(self, kind: str, call_id: str, token: str, body: bytes) -> CarrierOutcome:
        """A carrier callback the gateway authenticated (``Dialer.CarrierWebhook``): the
        carrier's body as received, for the call and token its URL named."""
        raise FailedPrecondition(f"the {self.name} telephony provider takes no carrier callbacks")

    async def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Releases the provider's resources at shutdown."""


class MediaEndpoint(Protocol):
    """One end of ``Dialer.Phone``: a virtual phone, or a carrier's attached media socket."""

    def downlink(self) -> AsyncIterator[PhoneDownlink]:
        """What to send the other end, until it is done."""
        ...

    async def handle(self, event: PhoneUplink) -> None:
        """One uplink message after the first; raises domain errors on misuse."""
        ...

    def close(self) -> None:
        """The stream ended."""
        ...
