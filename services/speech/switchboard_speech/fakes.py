"""Fake providers for tests, implementing the same base classes as the real ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from switchboard.errors import InvalidArgument
from switchboard_speech.audio import frame_bytes
from switchboard_speech.stt.base import PartialCallback, Recognition, SpeechToText, Utterance
from switchboard_speech.tts.base import TextToSpeech, Voice
from switchboard_speech.vad.base import VadStream, VoiceActivityDetector

SPEECH_BYTE = 0x40  # frames whose first byte is this are "speech" to FakeVad


def speech_frame(sample_rate: int = 8000) -> bytes:
    return bytes([SPEECH_BYTE]) * frame_bytes(sample_rate)


def silence_frame(sample_rate: int = 8000) -> bytes:
    return b"\x00" * frame_bytes(sample_rate)


class _FakeVadStream(VadStream):
    def __init__(self, owner: FakeVad) -> None:
        self._owner = owner

    def is_speech(self, frame: bytes, threshold: float) -> bool:
        self._owner.thresholds.append(threshold)
        return frame[0] == SPEECH_BYTE


class FakeVad(VoiceActivityDetector):
    """Speech is a frame starting with SPEECH_BYTE; records the thresholds it was given."""

    name = "fake"

    def __init__(self) -> None:
        self.thresholds: list[float] = []

    def stream(self, sample_rate: int) -> VadStream:
        return _FakeVadStream(self)


class FakeUtterance(Utterance):
    def __init__(self, owner: FakeSTT, lang: str) -> None:
        self._owner = owner
        self._lang = lang
        self.audio = bytearray()
        self.events: list[str] = []
        self.discarded = False

    def push(self, pcm: bytes) -> None:
        self.audio += pcm

    def silence_started(self) -> None:
        self.events.append("silence")

    def speech_resumed(self) -> None:
        self.events.append("resumed")

    async def finish(self) -> Recognition:
        self.events.append("finish")
        await self._owner.release.wait()
        return Recognition(self._owner.text_for(bytes(self.audio)), 0.9, self._lang)

    async def discard(self) -> None:
        self.discarded = True


class FakeSTT(SpeechToText):
    """Recognises "<n> frames"; ``release`` can hold finals back to test ordering."""

    name = "fake"

    def __init__(self, frame_size: int = frame_bytes(8000)) -> None:
        self.utterances: list[FakeUtterance] = []
        self.release = asyncio.Event()
        self.release.set()
        self._frame_size = frame_size

    def text_for(self, audio: bytes) -> str:
        return f"{len(audio) // self._frame_size} frames"

    def supports_lang(self, lang: str) -> bool:
        return lang.startswith("en")

    def utterance(self, sample_rate: int, lang: str, on_partial: PartialCallback) -> Utterance:
        utterance = FakeUtterance(self, lang)
        self.utterances.append(utterance)
        return utterance


class FakeTTS(TextToSpeech):
    """Renders each character as one 20 ms frame of a constant tone-ish value."""

    name = "fake"

    def __init__(self, delay: Callable[[str], float] = lambda _text: 0.0) -> None:
        self.spoken: list[tuple[str, Voice]] = []
        self._delay = delay

    def resolve(self, voice: Voice) -> Voice:
        if voice.name not in ("", "fake"):
            raise InvalidArgument(f"unknown voice {voice.name!r}; the fake TTS has: fake")
        return Voice("fake", voice.lang or "en-US", voice.rate)

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        self.spoken.append((text, voice))
        await asyncio.sleep(self._delay(text))
        yield b"\x01\x02" * (frame_bytes(sample_rate) // 2) * len(text)
