"""The call's ``Speech.Listen`` and ``Speech.Speak`` streams, reopened after a restart.

Each open stream is a send task and a receive task under one supervisor
(:func:`run_duplex`); the reconnect loop (:class:`ReconnectLoop`) sits outside
it and retries only retryable errors, backing off 100 ms → 500 ms so a restarted speech service is
back in the call within a second. A stream down for longer than
``reconnect_timeout_sec`` raises ``Unavailable`` and the call ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import replace

from switchboard.clock import Clock
from switchboard.media import FRAME_MS, ExpectedAnswer
from switchboard.speech import (
    CancelTurn,
    ListenConfig,
    ListenResponse,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
    SpeakSettings,
    SpeakText,
    SpeechStarted,
    SpeechTextDone,
    Transcript,
)
from switchboard.tasks import ReconnectLoop, run_duplex, run_until_first_ends
from switchboard.telemetry_metrics import FRAMES_IN_LATENCY
from switchboard_dialer.media.listen_replay import ReplayBuffer
from switchboard_dialer.ports import ListenStream, SpeakStream, SpeechPort

log = logging.getLogger(__name__)

BACKOFF_START_SEC = 0.1
BACKOFF_MAX_SEC = 0.5
# A stream that stayed up this long was healthy: its loss starts a new outage.
HEALTHY_SEC = 1.0


class SpeechLink(ABC):
    """A speech stream kept open for the whole call."""

    kind = ""

    def __init__(self, call_id: str, reconnect_timeout_sec: float, clock: Clock) -> None:
        self.call_id = call_id
        self._reconnect = ReconnectLoop(
            self.kind,
            reconnect_timeout_sec,
            clock,
            closed_message=f"the speech service closed the {self.kind} stream",
            gone_message=(
                f"the speech service ({self.kind}) did not come back within reconnect_timeout_sec"
            ),
            backoff_start_sec=BACKOFF_START_SEC,
            backoff_max_sec=BACKOFF_MAX_SEC,
            healthy_sec=HEALTHY_SEC,
            log_extra={"call_id": call_id},
        )
        self.connected = asyncio.Event()

    @property
    def reconnects(self) -> int:
        return self._reconnect.reconnects

    async def run(self) -> None:
        """Keeps the stream open until cancelled; raises when the service stays away."""
        await self._reconnect.run(self._open)

    async def _open(self, reconnect: bool) -> None:
        try:
            await self._once()
        finally:
            self.connected.clear()

    @abstractmethod
    async def _once(self) -> None:
        """Opens one stream and runs it until it ends or fails."""


FrameSource = Callable[[], Awaitable[bytes | None]]
ListenHandler = Callable[[ListenResponse], Awaitable[None]]


class ListenLink(SpeechLink):
    """Caller frames from the line to ``Listen``; its events to ``on_event``.

    Frames go through a :class:`ReplayBuffer`, read from the line for the whole
    call (also while no stream is open). Those already there when a message leaves go
    together, up to the config's ``frames_per_message`` (a carrier's bridge delivers a
    few at a time; a replay after a restart goes faster). A new stream first gets what the buffer
    kept (the caller's audio since the last final transcript), then live frames:
    an utterance cut by a speech restart is heard whole by the next stream. A
    final that ends where one was already delivered is dropped, so no answer
    reaches the brain twice.

    ``on_open(reconnect)`` runs each time a stream opens, before the replay.
    """

    kind = "listen"

    def __init__(
        self,
        speech: SpeechPort,
        config: ListenConfig,
        frames: FrameSource,
        on_event: ListenHandler,
        on_open: Callable[[bool], None],
        reconnect_timeout_sec: float,
        clock: Clock,
        replay: ReplayBuffer | None = None,
    ) -> None:
        super().__init__(config.call_id, reconnect_timeout_sec, clock)
        self._speech = speech
        self._config = config
        self._frames = frames
        self._on_event = on_event
        self._on_open = on_open
        self.replay = replay or ReplayBuffer(config.call_id)
        self._stream: ListenStream | None = None
        self._opened = 0
        # Audio sent on the current stream: where its offsets (speech_started) stand now.
        self.sent_ms = 0
        # Of that, the replayed part: offsets before it are of audio from before the stream.
        self.replayed_ms = 0
        self._stream_start = 0  # the call's frame number of the stream's first frame
        self._sending = 0  # the call's frame number of the next frame to send
        self._open_utterances = 0  # speech_started without its final, on this stream
        self._heard_until_ms = -1  # the call's media time the last final delivered ended at
        self._heard_on = 0  # the stream (1, 2, …) that delivered it
        self._expected: ExpectedAnswer | None = None

    async def run(self) -> None:
        """Reads the line and keeps the stream open until cancelled; raises when the
        service stays away."""
        await run_until_first_ends(
            f"call-{self.call_id}-listen",
            {"caller-audio": self._read_line(), "stream": super().run()},
        )

    async def _read_line(self) -> None:
        frames, replay = self._frames, self.replay
        while (pcm := await frames()) is not None:
            replay.append(pcm)
            if not self._open_utterances:
                replay.idle(self._sending)
        replay.close()
        await asyncio.Event().wait()  # the caller is gone; the session ends the call

    async def set_lang(self, lang: str) -> None:
        """Applies now and to every later stream."""
        self._config = replace(self._config, lang=lang)
        if self._stream is not None:
            await self._stream.set_lang(lang)

    async def expect(self, answer: ExpectedAnswer) -> None:
        """What the bot just asked for (endpointing); applies now and to every later stream."""
        self._expected = answer
        if self._stream is not None:
            await self._stream.expect(answer)

    async def _once(self) -> None:
        stream = await self._speech.listen(self._config)
        if self._expected is not None:
            await stream.expect(self._expected)
        self._stream = stream
        replay = self.replay
        self._stream_start = self._sending = replay.first
        self._open_utterances = 0
        self.sent_ms = 0
        self.replayed_ms = replay.kept_ms if self._opened else 0
        self.connected.set()
        self._on_open(self._opened > 0)
        if self._opened:
            log.info(
                "replaying the caller's audio into the new listen stream",
                extra={"call_id": self.call_id, "replay_ms": self.replayed_ms},
            )
        self._opened += 1
        try:
            await run_duplex(
                f"call-{self.call_id}-listen", self._send(stream), self._receive(stream)
            )
        finally:
            self._stream = None
            await stream.close()

    async def _send(self, stream: ListenStream) -> None:
        replay = self.replay
        while True:
            self._sending = max(self._sending, replay.first)
            chunk = await replay.chunk(self._sending, self._config.frames_per_message)
            if chunk is None:
                break
            pcm, count = chunk
            started = time.perf_counter()
            await stream.send_frame(pcm)
            sent_sec = time.perf_counter() - started
            for _ in range(count):  # a latency per frame, as when each was a message
                FRAMES_IN_LATENCY.record(sent_sec)
            self._sending += count
            self.sent_ms += count * FRAME_MS
        await asyncio.Event().wait()  # the caller is gone; the session ends the call

    async def _receive(self, stream: ListenStream) -> None:
        while (event := await stream.receive()) is not None:
            if isinstance(event, SpeechStarted):
                self._open_utterances += 1
            elif isinstance(event, Transcript) and event.is_final:
                if not self._first_hearing(event):
                    continue
            await self._on_event(event)

    def _first_hearing(self, final: Transcript) -> bool:
        """Whether the final is news; if so, the audio it covers leaves the buffer."""
        self._open_utterances = max(0, self._open_utterances - 1)
        end_ms = self._stream_start * FRAME_MS + final.end_ms
        # Finals of one stream are each news; a new stream's may repeat an old one's.
        if self._heard_on < self._opened and end_ms <= self._heard_until_ms:
            log.info(
                "final transcript already delivered; dropped",
                extra={"call_id": self.call_id, "end_ms": end_ms},
            )
            return False
        self._heard_until_ms = end_ms
        self._heard_on = self._opened
        self.replay.heard_until(end_ms)
        return True


SpeakHandler = Callable[[SpeakResponse], None]


class SpeakLink(SpeechLink):
    """Sentences and cancels to ``Speak``; audio and ``done`` to ``on_event``.

    Sentences sent but not ``done`` are remembered; a new stream gets them again,
    in order, and ``on_resend`` is told which ones, so the pipeline can skip the
    frames it already has.
    """

    kind = "speak"

    def __init__(
        self,
        speech: SpeechPort,
        config: SpeakConfig,
        on_event: SpeakHandler,
        on_resend: Callable[[list[SpeakText]], None],
        reconnect_timeout_sec: float,
        clock: Clock,
    ) -> None:
        super().__init__(config.call_id, reconnect_timeout_sec, clock)
        self._speech = speech
        self._config = config
        self._on_event = on_event
        self._on_resend = on_resend
        self._outbox: asyncio.Queue[SpeakRequest] = asyncio.Queue()
        self._pending: dict[tuple[str, int], SpeakText] = {}
        self._opened = 0

    def send(self, request: SpeakRequest) -> None:
        match request:
            case SpeakText(turn_id=turn_id, index=index):
                self._pending[(turn_id, index)] = request
            case CancelTurn(turn_id=turn_id):
                for key in [k for k in self._pending if k[0] == turn_id]:
                    del self._pending[key]
            case SpeakSettings(voice=voice, lang=lang, prosody_rate=rate):
                # A new language without a voice named takes its default voice (as the
                # speech service does): a reopened stream must not get the old one.
                same_lang = not lang or lang == self._config.lang
                self._config = replace(
                    self._config,
                    voice=voice or (self._config.voice if same_lang else ""),
                    lang=lang or self._config.lang,
                    prosody_rate=rate or self._config.prosody_rate,
                )
        self._outbox.put_nowait(request)

    async def _once(self) -> None:
        stream = await self._speech.speak(self._config)
        # Queued requests are superseded by the state we resend: the config the
        # stream was opened with, and every sentence still waiting for its audio.
        while not self._outbox.empty():
            self._outbox.get_nowait()
        resend = list(self._pending.values())
        if self._opened and resend:
            self._on_resend(resend)
        self._opened += 1
        try:
            for text in resend:
                await stream.send(text)
            self.connected.set()
            await run_duplex(
                f"call-{self.call_id}-speak", self._send(stream), self._receive(stream)
            )
        finally:
            await stream.close()

    async def _send(self, stream: SpeakStream) -> None:
        while True:
            await stream.send(await self._outbox.get())

    async def _receive(self, stream: SpeakStream) -> None:
        while (event := await stream.receive()) is not None:
            if isinstance(event, SpeechTextDone):
                self._pending.pop((event.turn_id, event.index), None)
            self._on_event(event)
