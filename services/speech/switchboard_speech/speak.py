"""One Speak stream: texts in, 20 ms frames of audio out, turn by turn (several
frames a message when the config asks for it: ``frames_per_message``).

Texts are queued and synthesised sentence by sentence in one task. A cancelled
turn's queued texts are dropped, its synthesis stops at the next frame, and the
sender drops any of its frames still queued: nothing of it leaves after the
cancel is read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from dataclasses import replace

import numpy as np

from switchboard import telemetry
from switchboard.errors import InvalidArgument, SwitchboardError
from switchboard.media import AudioFrame
from switchboard.speech import SpeakConfig, SpeakResponse, SpeakText, SpeechAudio, SpeechTextDone
from switchboard.telemetry_metrics import provider_ttfb
from switchboard_speech.audio import FRAME_MS, check_sample_rate, frame_bytes
from switchboard_speech.outbox import Outbox
from switchboard_speech.text import check_text, sentences
from switchboard_speech.tts.base import MAX_RATE, MIN_RATE, TextToSpeech, Voice

log = logging.getLogger(__name__)

# Texts waiting for synthesis in one stream; more is refused (the client should pace).
MAX_PENDING_TEXTS = 256
# Cancelled turn ids remembered, to drop texts of theirs that arrive late.
REMEMBERED_CANCELS = 256
# A turn's audio starts at its first audible frame: a voice's leading silence (Piper's
# is about 40 ms) would only delay the answer at the phone. At most this many frames
# go; a longer silence is meant and kept.
MAX_LEADING_TRIM_FRAMES = 10
# A frame whose samples all stay inside ±this is silence (about -54 dBFS).
SILENT_PEAK = 64


def is_silent(frame: bytes) -> bool:
    """Whether a PCM16 frame is silence (every sample within ``SILENT_PEAK``)."""
    samples = np.frombuffer(frame, dtype="<i2")
    return samples.size == 0 or (
        int(samples.max()) < SILENT_PEAK and int(samples.min()) > -SILENT_PEAK
    )


class LeadingSilence:
    """Holds back the silent frames a turn's first sentence starts with; drops them once
    an audible frame follows, sends them after all when the silence lasts ``limit``
    frames or is all there is (``flush``)."""

    def __init__(self, frame_size: int, limit: int) -> None:
        self._size = frame_size
        self._limit = limit
        self._held = bytearray()
        self.active = limit > 0

    def feed(self, frames: bytes) -> bytes:
        """Whole frames in; what may leave now."""
        if not self.active:
            return frames
        size = self._size
        for start in range(0, len(frames), size):
            if not is_silent(frames[start : start + size]):
                self.active = False
                self._held.clear()
                return frames[start:]
            self._held += frames[start : start + size]
            if len(self._held) >= self._limit * size:
                return self.flush() + frames[start + size :]
        return b""

    def flush(self) -> bytes:
        """What is held, to be sent: the silence was meant."""
        self.active = False
        held = bytes(self._held)
        self._held.clear()
        return held


def check_rate(rate: float) -> float:
    """0 (unset) is 1.0; anything else must be 0.75-1.25."""
    if rate == 0:
        return 1.0
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidArgument(f"prosody_rate must be between {MIN_RATE} and {MAX_RATE}, got {rate}")
    return rate


class SpeakSession:
    """Synthesis queue of one call; ``run`` is its one worker task."""

    def __init__(
        self, config: SpeakConfig, tts: TextToSpeech, outbox: Outbox[SpeakResponse]
    ) -> None:
        check_sample_rate(config.sample_rate)
        self.config = config
        self._tts = tts
        self._voice = tts.resolve(Voice(config.voice, config.lang, check_rate(config.prosody_rate)))
        self._outbox = outbox
        self._pending: deque[SpeakText] = deque()
        self._cancelled: OrderedDict[str, None] = OrderedDict()
        self._wake = asyncio.Event()
        self._input_closed = False
        self._seq = 0

    @property
    def voice(self) -> Voice:
        return self._voice

    def configure(self, config: SpeakConfig) -> None:
        """Voice, language or rate change; applies from the next text on."""
        if config.sample_rate and config.sample_rate != self.config.sample_rate:
            raise InvalidArgument(
                f"sample_rate cannot change mid-stream ({self.config.sample_rate} → "
                f"{config.sample_rate}); open a new Speak stream"
            )
        lang = config.lang or self._voice.lang
        # A new language without a voice named takes that language's default voice (on
        # Azure the voice name carries its language): the old one would speak it wrong.
        same_lang = lang == self._voice.lang
        voice = Voice(
            config.voice or (self._voice.name if same_lang else ""),
            lang,
            check_rate(config.prosody_rate) if config.prosody_rate else self._voice.rate,
        )
        try:
            self._voice = self._tts.resolve(voice)
        except InvalidArgument as exc:
            if same_lang:
                raise
            # Mid-call, a language the voice cannot speak keeps the call in its current
            # one (the brain tells the caller); failing the stream would end the call.
            log.warning(
                "language change ignored: the voice does not speak it",
                extra={
                    "call_id": self.config.call_id,
                    "lang": lang,
                    "kept": self._voice.lang,
                    "error": exc.message,
                },
            )
            self._voice = self._tts.resolve(
                replace(voice, name=self._voice.name, lang=self._voice.lang)
            )

    def add_text(self, item: SpeakText) -> None:
        check_text(item.text)
        if self.is_cancelled(item.turn_id):
            log.debug("text of a cancelled turn dropped", extra={"turn_id": item.turn_id})
            return
        if len(self._pending) >= MAX_PENDING_TEXTS:
            raise InvalidArgument(
                f"more than {MAX_PENDING_TEXTS} texts queued; wait for `done` before sending more"
            )
        self._pending.append(item)
        self._wake.set()

    def cancel(self, turn_id: str) -> None:
        self._cancelled[turn_id] = None
        self._cancelled.move_to_end(turn_id)
        while len(self._cancelled) > REMEMBERED_CANCELS:
            self._cancelled.popitem(last=False)
        before = len(self._pending)
        self._pending = deque(t for t in self._pending if t.turn_id != turn_id)
        log.debug(
            "turn cancelled",
            extra={
                "call_id": self.config.call_id,
                "turn_id": turn_id,
                "dropped_texts": before - len(self._pending),
            },
        )

    def is_cancelled(self, turn_id: str) -> bool:
        return turn_id in self._cancelled

    def close_input(self) -> None:
        """No more texts: ``run`` returns once the queued ones are spoken."""
        self._input_closed = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            while self._pending:
                item = self._pending.popleft()
                try:
                    await self._speak(item)
                except SwitchboardError:
                    raise  # e.g. a vendor outage: the client reconnects or falls back
                except Exception:
                    # One unspeakable text must not end the call's audio: skip it, say so.
                    log.exception(
                        "synthesis failed; text skipped",
                        extra={
                            "call_id": self.config.call_id,
                            "turn_id": item.turn_id,
                            "pii_text": item.text,
                        },
                    )
                    if not self.is_cancelled(item.turn_id):
                        await self._outbox.put(
                            SpeechTextDone(turn_id=item.turn_id, index=item.index)
                        )
            self._wake.clear()
            if self._input_closed:
                return

    async def _speak(self, item: SpeakText) -> None:
        provider = self._tts.name or type(self._tts).__name__
        with telemetry.span(
            "tts.speak",
            {
                "provider.kind": "tts",
                "provider.name": provider,
                "turn.id": item.turn_id,
                "tts.chars": len(item.text),
            },
        ):
            await self._synthesize(item, provider)

    async def _synthesize(self, item: SpeakText, provider: str) -> None:
        started: float | None = time.perf_counter()
        voice = self._voice
        rate = self.config.sample_rate
        size = frame_bytes(rate)
        # Whole frames ready now leave together, up to this many a message.
        chunk = size * max(1, self.config.frames_per_message)
        carry = b""
        leading = LeadingSilence(size, MAX_LEADING_TRIM_FRAMES if item.index == 0 else 0)
        for sentence in sentences(item.text, first_of_turn=item.index == 0):
            async for pcm in self._tts.synthesize(sentence, voice, rate):
                if started is not None:
                    provider_ttfb("tts", provider, time.perf_counter() - started)
                    started = None
                data = carry + pcm
                whole = len(data) - len(data) % size
                carry = data[whole:]
                if not await self._send_frames(item, leading.feed(data[:whole]), chunk):
                    return
        rest = leading.flush() + (carry + b"\x00" * (size - len(carry)) if carry else b"")
        if not await self._send_frames(item, rest, chunk):
            return
        if not self.is_cancelled(item.turn_id):
            await self._outbox.put(SpeechTextDone(turn_id=item.turn_id, index=item.index))

    async def _send_frames(self, item: SpeakText, frames: bytes, chunk: int) -> bool:
        """Whole frames, ``chunk`` bytes a message at most; False once the turn is cancelled."""
        for start in range(0, len(frames), chunk):
            if not await self._send(item, frames[start : start + chunk]):
                return False
        return True

    async def _send(self, item: SpeakText, frames: bytes) -> bool:
        """One message: one 20 ms frame, or up to ``frames_per_message`` of them."""
        if self.is_cancelled(item.turn_id):
            return False
        seq = self._seq + 1
        self._seq += len(frames) // frame_bytes(self.config.sample_rate)
        await self._outbox.put(
            SpeechAudio(
                item.turn_id,
                item.index,
                AudioFrame(
                    pcm=frames,
                    seq=seq,
                    timestamp_ms=(seq - 1) * FRAME_MS,
                    sample_rate=self.config.sample_rate,
                    call_id=self.config.call_id,
                ),
            )
        )
        return True
