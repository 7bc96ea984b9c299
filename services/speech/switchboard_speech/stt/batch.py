"""Speculative decoding for recognisers that only transcribe whole clips (whisper).

When the caller falls silent the clip so far is decoded in a worker thread; if
the silence window then closes, that result is the final text (only silence was
added since). If the caller resumes, the result is stale: dropped, and cancelled
if its decode has not started yet. A fresh speculation never waits behind a
stale one, but an utterance has at most MAX_INFLIGHT decodes at once, so a
caller who pauses often cannot pile up work.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from abc import abstractmethod
from concurrent.futures import Executor

from switchboard_speech.stt.base import PartialCallback, Recognition, SpeechToText, Utterance

log = logging.getLogger(__name__)

MAX_INFLIGHT = 2


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
    """Audio of one utterance plus the decodes of it in flight (at most MAX_INFLIGHT)."""

    def __init__(self, stt: ClipSpeechToText, sample_rate: int, lang: str) -> None:
        self._stt = stt
        self._rate = sample_rate
        self._lang = lang
        self._audio = bytearray()
        self._wanted = False
        # The decode whose result is still valid (None when there is none).
        self._current: concurrent.futures.Future[Recognition] | None = None
        self._inflight: set[concurrent.futures.Future[Recognition]] = set()
        self.decodes_started = 0

    def push(self, pcm: bytes) -> None:
        self._audio += pcm

    def silence_started(self) -> None:
        self._wanted = True
        self._maybe_start()

    def speech_resumed(self) -> None:
        self._wanted = False
        stale, self._current = self._current, None
        if stale is not None and stale.cancel():
            self._inflight.discard(stale)
            log.debug("speculative decode cancelled before it ran")

    def heard_so_far(self) -> Recognition | None:
        # Only silence was pushed since this decode started (speech would have dropped it).
        current = self._current
        if current is None or not current.done() or current.cancelled() or current.exception():
            return None
        return current.result()

    async def finish(self) -> Recognition:
        while True:
            if self._current is not None:
                return await asyncio.wrap_future(self._current)
            if len(self._inflight) >= MAX_INFLIGHT:
                await asyncio.wait(
                    [asyncio.wrap_future(f) for f in self._inflight],
                    return_when=asyncio.FIRST_COMPLETED,
                )
                continue
            self._start()

    async def discard(self) -> None:
        self._wanted = False
        self.speech_resumed()
        self._audio = bytearray()

    def _maybe_start(self) -> None:
        if self._wanted and self._current is None and len(self._inflight) < MAX_INFLIGHT:
            self._start()

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        future = self._stt.executor.submit(
            self._stt.recognize, bytes(self._audio), self._rate, self._lang
        )
        self.decodes_started += 1
        self._inflight.add(future)
        self._current = future

        def done(f: concurrent.futures.Future[Recognition]) -> None:
            try:
                loop.call_soon_threadsafe(self._on_done, f)
            except RuntimeError:
                pass  # the loop is closed: the process is shutting down

        future.add_done_callback(done)

    def _on_done(self, future: concurrent.futures.Future[Recognition]) -> None:
        self._inflight.discard(future)
        if future is not self._current and not future.cancelled() and future.exception():
            log.warning("a dropped speculative decode failed", exc_info=future.exception())
        self._maybe_start()
