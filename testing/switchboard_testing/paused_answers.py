"""Answers said with pauses in the middle, for checking that smart endpointing never cuts
a caller off: phone numbers read in groups, spelled e-mail addresses, dates, "uh…".

Each answer is a list of phrases; the caller pauses 300-700 ms between them (cycling
through :data:`PAUSES_MS`). Only the whole answer is a complete value of its type; the
speech service may end the turn early after the last phrase, never before it. Used by
``services/speech/tests/test_early_cut_voices.py`` and ``bench/speech/early_cut.py``.
"""

from __future__ import annotations

import asyncio
import math
from array import array
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from switchboard.config import Features
from switchboard.domain import ClaimFieldType
from switchboard.media import ExpectedAnswer
from switchboard.speech import ListenConfig, ListenResponse, SpeechEnded, Transcript
from switchboard_speech.listen import ListenSession
from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText
from switchboard_speech.tts.base import TextToSpeech, Voice
from switchboard_speech.vad.base import VoiceActivityDetector

PAUSES_MS = (300, 400, 450, 500, 600, 700)
FRAME_MS = 20
# A synthesised frame louder than this (PCM16 RMS) is speech: where a phrase starts and ends.
VOICED_RMS = 300.0


@dataclass(frozen=True)
class PausedAnswer:
    kind: ClaimFieldType
    phrases: tuple[str, ...]


PHONE, EMAIL = ClaimFieldType.PHONE_NUMBER, ClaimFieldType.EMAIL
DATE, TEXT = ClaimFieldType.DATETIME, ClaimFieldType.TEXT
ANSWERS = [
    # Phone numbers read in groups (US).
    PausedAnswer(PHONE, ("four one five", "five five five", "oh one two three")),
    PausedAnswer(
        ClaimFieldType.PHONE_NUMBER,
        ("my number is", "four one five", "eight six seven", "five three oh nine"),
    ),
    PausedAnswer(PHONE, ("it's two one two", "five five five", "oh one nine nine")),
    PausedAnswer(PHONE, ("uh", "six five oh, three two one", "four four four four")),
    PausedAnswer(PHONE, ("seven one eight", "uh", "two two two", "three three three three")),
    PausedAnswer(PHONE, ("it's three one two,", "nine eight seven,", "six five four three")),
    # Spelled e-mail addresses.
    PausedAnswer(EMAIL, ("J, O, H, N", "dot D, O, E", "at example dot com")),
    PausedAnswer(EMAIL, ("my email is", "uh", "jane at example dot com")),
    PausedAnswer(EMAIL, ("it's M, A, R, Y", "underscore smith", "at gmail dot com")),
    PausedAnswer(EMAIL, ("john dot smith", "at", "contoso dot com")),
    PausedAnswer(EMAIL, ("P, E, T, E, R", "at example", "dot org")),
    PausedAnswer(EMAIL, ("it's anna", "at fabrikam", "dot net")),
    # Dates and times.
    PausedAnswer(DATE, ("it was yesterday", "at around", "two p.m.")),
    PausedAnswer(DATE, ("last Monday", "uh", "at ten in the morning")),
    PausedAnswer(DATE, ("March third", "at", "four thirty p.m.")),
    PausedAnswer(DATE, ("on Friday,", "I think", "at noon")),
    # Free text with hesitations.
    PausedAnswer(TEXT, ("the roof", "uh", "was leaking after the storm")),
    PausedAnswer(TEXT, ("well", "a tree fell", "on the fence")),
]


def _rms(frame: bytes) -> float:
    samples = array("h", frame)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def voiced_frames(pcm: bytes, sample_rate: int) -> list[bytes]:
    """The 20 ms frames of ``pcm`` from its first to its last voiced one."""
    size = sample_rate // 1000 * FRAME_MS * 2
    frames = [pcm[i : i + size].ljust(size, b"\0") for i in range(0, len(pcm), size)]
    loud = [i for i, frame in enumerate(frames) if _rms(frame) > VOICED_RMS]
    if not loud:
        raise ValueError("a synthesised phrase has no voiced frame")
    return frames[loud[0] : loud[-1] + 1]


def pauses(count: int, start: int = 0) -> Iterator[int]:
    """``count`` pause lengths in ms, cycling through :data:`PAUSES_MS` from ``start``."""
    for i in range(count):
        yield PAUSES_MS[(start + i) % len(PAUSES_MS)]


@dataclass
class Heard:
    """How the speech service's endpointing split one paused answer."""

    utterances: int  # speech_ended events
    early_cut: bool  # an early end before the last phrase was said: the caller cut off
    ended_early: bool  # the last utterance ended before the full silence window
    finals: list[str]


async def listen_to(
    phrases: list[list[bytes]],
    gaps_ms: list[int],
    kind: ClaimFieldType,
    vad: VoiceActivityDetector,
    stt: ClipSpeechToText,
    sample_rate: int,
    tail_ms: int = 1000,
) -> Heard:
    """Feeds the phrases (frames) with ``gaps_ms`` of silence between them into one Listen
    session that expects ``kind``. Decoding runs inline, so a speculative transcript is
    ready the moment the caller pauses: the worst case for an early cut."""
    events: list[ListenResponse] = []

    async def emit(event: ListenResponse) -> None:
        events.append(event)

    session = ListenSession(
        ListenConfig("paused-answer", sample_rate), vad, _Inline(stt), Features, emit
    )
    session.expect(ExpectedAnswer(kind, "US"))
    silence = b"\0" * (sample_rate // 1000 * FRAME_MS * 2)
    early_cut = False
    for i, frames in enumerate(phrases):
        for frame in frames:
            await session.on_frame(frame)
            await asyncio.sleep(0)
        gap = gaps_ms[i] if i < len(gaps_ms) else tail_ms
        for _ in range(gap // FRAME_MS):
            before = session.early_ends
            await session.on_frame(silence)
            await asyncio.sleep(0)
            if session.early_ends > before and i < len(phrases) - 1:
                early_cut = True
    ended_early = session.early_ends > 0 and not early_cut
    await session.drain()
    finals = [e.text for e in events if isinstance(e, Transcript) and e.is_final]
    ended = sum(isinstance(e, SpeechEnded) for e in events)
    return Heard(ended, early_cut, ended_early, finals)


class _InlineExecutor(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class _Inline(ClipSpeechToText):
    """A clip recogniser whose decodes run at once, on the caller's thread."""

    def __init__(self, stt: ClipSpeechToText) -> None:
        self._stt = stt
        self._executor = _InlineExecutor()
        self.name = stt.name

    @property
    def executor(self) -> Executor:
        return self._executor

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        return self._stt.recognize(pcm, sample_rate, lang)


async def hear_the_set(
    tts: TextToSpeech, vad: VoiceActivityDetector, stt: ClipSpeechToText, sample_rate: int
) -> list[tuple[PausedAnswer, Heard]]:
    """Every answer of :data:`ANSWERS`, voiced by ``tts`` (Piper), as endpointing split it."""
    voice = Voice("en_US-joe-medium", "en-US")
    results = []
    for n, answer in enumerate(ANSWERS):
        phrases = []
        for text in answer.phrases:
            chunks = [chunk async for chunk in tts.synthesize(text, voice, sample_rate)]
            phrases.append(voiced_frames(b"".join(chunks), sample_rate))
        gaps = list(pauses(len(phrases) - 1, start=n))
        results.append((answer, await listen_to(phrases, gaps, answer.kind, vad, stt, sample_rate)))
    return results
