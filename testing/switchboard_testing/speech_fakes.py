"""A fake speech service for the dialer's tests, implementing ``SpeechPort``.

Speak renders every word as ``FRAMES_PER_WORD`` frames, at once (or when
released); Listen records the caller's frames and emits whatever the test tells
it to. ``restart`` drops every open stream like a crashed process.
"""

from __future__ import annotations

import asyncio

from switchboard.errors import Unavailable
from switchboard.media import AudioFrame, ExpectedAnswer, frames_of
from switchboard.speech import (
    CancelTurn,
    ListenConfig,
    ListenResponse,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
    SpeakText,
    SpeechAudio,
    SpeechTextDone,
)

FRAMES_PER_WORD = 5


def frame_of(sample_rate: int, fill: int = 1) -> bytes:
    return bytes([fill]) * (sample_rate // 50 * 2)


class FakeListenStream:
    def __init__(self, owner: FakeSpeech, config: ListenConfig) -> None:
        self.config = config
        self.frames = 0
        self.received: list[bytes] = []  # every frame sent on this stream, in order
        self.messages = 0  # how many messages carried them
        self.langs: list[str] = []
        self.expected: list[ExpectedAnswer] = []
        self._out: asyncio.Queue[ListenResponse | Exception | None] = asyncio.Queue()
        self._owner = owner

    async def send_frame(self, pcm: bytes) -> None:
        """One message: one or more 20 ms frames, recorded frame by frame."""
        frames = frames_of(pcm, self.config.sample_rate)
        self.messages += 1
        self.frames += len(frames)
        self.received.extend(frames)

    async def set_lang(self, lang: str) -> None:
        self.langs.append(lang)

    async def expect(self, answer: ExpectedAnswer) -> None:
        self.expected.append(answer)

    def emit(self, event: ListenResponse | Exception | None) -> None:
        self._out.put_nowait(event)

    async def receive(self) -> ListenResponse | None:
        item = await self._out.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        pass


class FakeSpeakStream:
    def __init__(self, owner: FakeSpeech, config: SpeakConfig) -> None:
        self.config = config
        self.requests: list[SpeakRequest] = []
        self._owner = owner
        self._out: asyncio.Queue[SpeakResponse | Exception | None] = asyncio.Queue()
        self._cancelled: set[str] = set()

    async def send(self, request: SpeakRequest) -> None:
        self.requests.append(request)
        self._owner.speak_requests.append(request)
        if isinstance(request, CancelTurn):
            self._cancelled.add(request.turn_id)
        elif isinstance(request, SpeakText):
            if self._owner.hold_synthesis:
                self._owner.held.append((self, request))
            else:
                self.render(request)

    def render(self, text: SpeakText) -> None:
        if text.turn_id in self._cancelled:
            return
        pcm = frame_of(self.config.sample_rate)
        for _ in range(FRAMES_PER_WORD * len(text.text.split())):
            self._out.put_nowait(SpeechAudio(text.turn_id, text.index, AudioFrame(pcm)))
        self._out.put_nowait(SpeechTextDone(text.turn_id, text.index))

    def fail(self, error: Exception) -> None:
        self._out.put_nowait(error)

    async def receive(self) -> SpeakResponse | None:
        item = await self._out.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def close(self) -> None:
        pass


class FakeSpeech:
    """Listen and Speak streams on demand; ``down`` refuses new ones."""

    def __init__(self) -> None:
        self.listens: list[FakeListenStream] = []
        self.speaks: list[FakeSpeakStream] = []
        self.speak_requests: list[SpeakRequest] = []
        self.hold_synthesis = False
        self.held: list[tuple[FakeSpeakStream, SpeakText]] = []
        self.down = False

    async def listen(self, config: ListenConfig) -> FakeListenStream:
        if self.down:
            raise Unavailable("connection refused")
        stream = FakeListenStream(self, config)
        self.listens.append(stream)
        return stream

    async def speak(self, config: SpeakConfig) -> FakeSpeakStream:
        if self.down:
            raise Unavailable("connection refused")
        stream = FakeSpeakStream(self, config)
        self.speaks.append(stream)
        return stream

    def release(self) -> None:
        held, self.held = self.held, []
        for stream, text in held:
            stream.render(text)

    def restart(self) -> None:
        """The speech process dies; it comes back when ``down`` is cleared."""
        for stream in self.speaks:
            stream.fail(Unavailable("speech process killed"))
        for listen in self.listens:
            listen.emit(Unavailable("speech process killed"))

    @property
    def ear(self) -> FakeListenStream:
        """The latest Listen stream."""
        return self.listens[-1]

    def cancels(self) -> list[str]:
        return [r.turn_id for r in self.speak_requests if isinstance(r, CancelTurn)]

    def texts(self) -> list[SpeakText]:
        return [r for r in self.speak_requests if isinstance(r, SpeakText)]
