"""Speculative decoding for recognisers that only transcribe whole clips (whisper).

When the caller falls silent the clip so far is decoded in a worker thread; if
the silence window then closes, that result is the final text (only silence was
added since). If the caller resumes, the result is stale and dropped. Each
utterance has at most one decode in flight, so a caller who pauses often cannot
queue up work: a wanted speculation waits for the in-flight decode to end.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from concurrent.futures import Executor

from switchboard_speech.stt.base import PartialCallback, Recognition, SpeechToText, Utterance

log = logging.getLogger(__name__)


class ClipSpeechToText(SpeechToText):
    """A recogniser of whole clips, run in its own worker threads."""

    @property
    @abstractmethod
    def executor(self) -> Executor:
        """Where decodes run (never the event loop)."""

    @abstractmethod
    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        """Transcribes a PCM16 clip; blocking, CPU-bound."""

    def utterance(self, sample_rate: int, lang: str, on_partial: PartialCallback) -> Utterance:
        return SpeculativeUtterance(self, sample_rate, lang)


class SpeculativeUtterance(Utterance):
    """Audio of one utterance plus at most one decode of it in flight."""

    def __init__(self, stt: ClipSpeechToText, sample_rate: int, lang: str) -> None:
        self._stt = stt
        self._rate = sample_rate
        self._lang = lang
        self._audio = bytearray()
        self._wanted = False
        # The decode whose result is still valid, and the one running (maybe stale).
        self._current: asyncio.Future[Recognition] | None = None
        self._inflight: asyncio.Future[Recognition] | None = None
        self.decodes_started = 0

    def push(self, pcm: bytes) -> None:
        self._audio += pcm

    def silence_started(self) -> None:
        self._wanted = True
        self._maybe_start()

    def speech_resumed(self) -> None:
        self._wanted = False
        if self._current is not None:
            log.debug("speculative decode dropped: the caller went on")
        self._current = None

    async def finish(self) -> Recognition:
        while True:
            if self._current is not None:
                return await self._current
            if self._inflight is not None and not self._inflight.done():
                await asyncio.wait([self._inflight])
                continue
            self._start()

    async def discard(self) -> None:
        self._wanted = False
        self._current = None
        self._audio = bytearray()

    def _maybe_start(self) -> None:
        if not self._wanted or self._current is not None:
            return
        if self._inflight is not None and not self._inflight.done():
            return  # started again from _on_done when the running decode ends
        self._start()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._stt.executor, self._stt.recognize, bytes(self._audio), self._rate, self._lang
        )
        self.decodes_started += 1
        self._inflight = future
        self._current = future
        future.add_done_callback(self._on_done)

    def _on_done(self, future: asyncio.Future[Recognition]) -> None:
        if future is not self._current and not future.cancelled() and future.exception():
            log.warning("a dropped speculative decode failed", exc_info=future.exception())
        self._maybe_start()
