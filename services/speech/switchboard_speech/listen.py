"""One Listen stream: caller frames in, speech events and final transcripts out.

VAD decisions run on the event loop (microseconds per frame); decoding runs in
the recogniser's worker threads. ``speech_ended`` is sent the moment the silence
window closes, and the final transcript right after it: usually at once, because
the recogniser started decoding when the caller fell silent.

When the dialer says what the bot just asked for (:class:`ExpectedAnswer`), an
utterance may end sooner: after ``EARLY_SILENCE_MS`` of silence, if the
speculative transcript is already a complete answer of that type
(:func:`is_complete_answer`). Otherwise the full window applies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from switchboard import telemetry
from switchboard.config import Features
from switchboard.media import ExpectedAnswer
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    SpeechEnded,
    SpeechStarted,
    Transcript,
)
from switchboard.tasks import cancel_and_wait
from switchboard.telemetry_metrics import STT_COMPLETE_LATENCY, provider_ttfb
from switchboard_speech.answer_complete import is_complete_answer
from switchboard_speech.audio import FRAME_MS, check_frame
from switchboard_speech.endpointing import PREROLL_MS, Action, Endpointer, EndpointParams, Kind
from switchboard_speech.stt.base import Recognition, SpeechToText, Utterance
from switchboard_speech.vad.base import VoiceActivityDetector

log = logging.getLogger(__name__)

# The language of a stream whose config names none.
DEFAULT_LANG = "en-US"

# Finals still being decoded for one stream; past this the stream waits (backpressure).
MAX_PENDING_FINALS = 3
# How long a closing stream waits for its decodes before giving up on them.
CLOSE_TIMEOUT_SEC = 5.0

Emit = Callable[[ListenResponse], Awaitable[None]]


class ListenSession:
    """Endpointing and recognition for one caller; owns its decode tasks."""

    def __init__(
        self,
        config: ListenConfig,
        vad: VoiceActivityDetector,
        stt: SpeechToText,
        features: Callable[[], Features],
        emit: Emit,
    ) -> None:
        self.config = config
        self._lang = config.lang or DEFAULT_LANG
        self._vad = vad.stream(config.sample_rate)
        self._stt = stt
        self._features = features
        self._emit = emit
        self._endpointer = Endpointer()
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_MS // FRAME_MS)
        self._utterance: Utterance | None = None
        self._onset_ms = 0
        self._base_ms: int | None = None
        self._finals: deque[asyncio.Task[None]] = deque()
        self._partials: set[asyncio.Task[None]] = set()
        self._count = 0
        self._expected: ExpectedAnswer | None = None
        self._judged: Recognition | None = None  # the last speculative text checked
        self.frames = 0
        self.early_ends = 0

    @property
    def buffered_frames(self) -> int:
        """Frames held for the pre-roll (the utterance audio is capped by the endpointer)."""
        return len(self._preroll)

    def set_lang(self, lang: str) -> None:
        """Applies from the next utterance on."""
        if lang and not self._stt.supports_lang(lang):
            log.warning(
                "language change ignored: the recogniser does not support it",
                extra={"call_id": self.config.call_id, "lang": lang, "kept": self._lang},
            )
            return
        self._lang = lang or self._lang

    def expect(self, answer: ExpectedAnswer) -> None:
        """What the bot just asked for; in force until the next one."""
        self._expected = answer if answer.type is not None else None

    async def on_frame(self, pcm: bytes, timestamp_ms: int = 0) -> None:
        check_frame(pcm, self.config.sample_rate)
        if self._base_ms is None:
            self._base_ms = max(0, timestamp_ms)
        self.frames += 1
        params = self._endpointer.params_for(EndpointParams.from_features(self._features()))
        voiced = self._vad.is_speech(pcm, params.threshold)
        actions = self._endpointer.step(voiced, params)
        if actions and actions[0].kind is Kind.BEGIN:
            self._begin(actions.pop(0))
        if self._utterance is not None:
            self._utterance.push(pcm)
        else:
            self._preroll.append(pcm)
        for action in actions:
            await self._apply(action)
        if self._expected is not None and not voiced:
            await self._maybe_end_early()

    async def _maybe_end_early(self) -> None:
        """Ends the utterance if the caller paused after a complete answer."""
        utterance, expected = self._utterance, self._expected
        if utterance is None or expected is None or not self._endpointer.may_end_early:
            return
        heard = utterance.heard_so_far()
        if heard is None or heard is self._judged:
            return
        self._judged = heard
        if not is_complete_answer(heard.text, expected):
            return
        self.early_ends += 1
        log.debug(
            "utterance ended early: a complete answer",
            extra={"call_id": self.config.call_id, "expected": str(expected.type)},
        )
        for action in self._endpointer.end_early():
            await self._apply(action)

    def _begin(self, action: Action) -> None:
        self._onset_ms = action.offset_ms
        self._utterance = self._stt.utterance(self.config.sample_rate, self._lang, self._on_partial)
        for frame in self._preroll:
            self._utterance.push(frame)
        self._preroll.clear()

    async def _apply(self, action: Action) -> None:
        base = self._base_ms or 0
        utterance = self._utterance
        if action.kind is Kind.STARTED:
            await self._emit(SpeechStarted(offset_ms=base + action.offset_ms))
        elif action.kind is Kind.PAUSED and utterance is not None:
            utterance.silence_started()
        elif action.kind is Kind.RESUMED and utterance is not None:
            utterance.speech_resumed()
        elif action.kind is Kind.DISCARDED and utterance is not None:
            self._utterance = None
            await utterance.discard()
        elif action.kind is Kind.ENDED and utterance is not None:
            self._utterance = None
            if action.forced:
                log.warning(
                    "utterance reached the length cap; decoding it now",
                    extra={"call_id": self.config.call_id, "offset_ms": base + action.offset_ms},
                )
            await self._emit(SpeechEnded(offset_ms=base + action.offset_ms))
            await self._finalize(utterance, base + self._onset_ms, base + action.offset_ms)

    async def _finalize(self, utterance: Utterance, start_ms: int, end_ms: int) -> None:
        while len(self._finals) >= MAX_PENDING_FINALS:
            log.warning(
                "recogniser behind: waiting for an earlier final",
                extra={"call_id": self.config.call_id, "pending": len(self._finals)},
            )
            await asyncio.wait([self._finals[0]])
            self._prune()
        previous = self._finals[-1] if self._finals else None
        self._count += 1
        task = asyncio.create_task(
            self._final(utterance, start_ms, end_ms, previous),
            name=f"listen-final-{self.config.call_id}-{self._count}",
        )
        self._finals.append(task)
        task.add_done_callback(lambda _t: self._prune())

    def _prune(self) -> None:
        while self._finals and self._finals[0].done():
            self._finals.popleft()

    async def _final(
        self,
        utterance: Utterance,
        start_ms: int,
        end_ms: int,
        previous: asyncio.Task[None] | None,
    ) -> None:
        provider = self._stt.name or type(self._stt).__name__
        started = time.perf_counter()
        with telemetry.span(
            "stt.utterance",
            {"provider.kind": "stt", "provider.name": provider, "stt.audio_ms": end_ms - start_ms},
        ) as span:
            try:
                result = await utterance.finish()
            except Exception:
                log.exception("recognition failed", extra={"call_id": self.config.call_id})
                result = Recognition(text="", confidence=0.0, lang=self._lang)
            provider_ttfb("stt", provider, time.perf_counter() - started)
            telemetry.set_attributes(span, {"stt.chars": len(result.text)})
        if previous is not None:
            await asyncio.wait([previous])  # transcripts leave in utterance order
        STT_COMPLETE_LATENCY.record(time.perf_counter() - started, {"provider.name": provider})
        log.debug(
            "final transcript",
            extra={"call_id": self.config.call_id, "pii_text": result.text, "end_ms": end_ms},
        )
        await self._emit(
            Transcript(
                text=result.text,
                is_final=True,
                confidence=result.confidence,
                lang=result.lang or self._lang,
                start_ms=start_ms,
                end_ms=end_ms,
            )
        )

    def _on_partial(self, result: Recognition) -> None:
        # Called on the loop by providers with partials (they marshal from SDK threads).
        event = Transcript(
            text=result.text,
            is_final=False,
            confidence=result.confidence,
            lang=result.lang or self._lang,
            start_ms=(self._base_ms or 0) + self._onset_ms,
            end_ms=(self._base_ms or 0) + self.frames * FRAME_MS,
        )
        task = asyncio.get_running_loop().create_task(
            self._send(event), name=f"listen-partial-{self.config.call_id}"
        )
        self._partials.add(task)
        task.add_done_callback(self._partials.discard)

    async def _send(self, event: ListenResponse) -> None:
        await self._emit(event)

    async def drain(self) -> None:
        """End of input: finish pending finals (the unfinished utterance is dropped)."""
        if self._utterance is not None:
            log.info(
                "stream ended mid-utterance; its audio is dropped",
                extra={"call_id": self.config.call_id},
            )
            utterance, self._utterance = self._utterance, None
            await utterance.discard()
        pending = list(self._finals)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=CLOSE_TIMEOUT_SEC)
            if late:
                log.warning(
                    "finals not ready at stream end; dropped",
                    extra={"call_id": self.config.call_id, "count": len(late)},
                )

    async def aclose(self) -> None:
        """Cancels whatever is still running (client gone)."""
        if self._utterance is not None:
            await self._utterance.discard()
            self._utterance = None
        await cancel_and_wait([*self._finals, *self._partials], CLOSE_TIMEOUT_SEC)
