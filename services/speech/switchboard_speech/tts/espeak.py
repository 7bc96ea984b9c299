"""espeak-ng (the Debian package's CLI): the offline voice of languages Piper has no
voice for here, French first (``fr-FR``).

A formant synthesiser: robotic, but in every language espeak-ng knows, instant
(~14 ms to the first audio, process start included) and without a model file. Each
sentence is one ``espeak-ng --stdout`` process; its 22.05 kHz WAV is resampled to the
call's rate.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import wave
from collections.abc import AsyncIterator

import numpy as np

from switchboard.errors import InvalidArgument, Unavailable
from switchboard.languages import primary
from switchboard_speech.audio import float_to_pcm16, pcm16_to_float, resample
from switchboard_speech.tts.base import TextToSpeech, Voice

# espeak-ng voice per language; "fr-fr" is its French (France) voice.
VOICES = {"fr": "fr-fr", "de": "de", "es": "es", "it": "it", "pt": "pt", "nl": "nl"}
WORDS_PER_MINUTE = 160
SYNTHESIS_TIMEOUT_SEC = 10.0


def voice_name(lang: str) -> str | None:
    return VOICES.get(primary(lang)) if lang else None


class EspeakTTS(TextToSpeech):
    """One ``espeak-ng`` process per sentence."""

    name = "espeak"

    def __init__(self) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ImportError("the espeak voice needs the Debian package espeak-ng")
        self._binary = binary

    def supports_lang(self, lang: str) -> bool:
        return voice_name(lang) is not None

    def resolve(self, voice: Voice) -> Voice:
        name = voice_name(voice.lang)
        if name is None:
            choices = ", ".join(sorted(VOICES))
            raise InvalidArgument(
                f"espeak-ng has no voice here for {voice.lang!r}; it has {choices}"
            )
        return Voice(name=f"espeak:{name}", lang=voice.lang, rate=voice.rate)

    async def render(self, text: str, voice: Voice, sample_rate: int) -> bytes:
        """PCM16 of ``text`` at ``sample_rate``."""
        process = await asyncio.create_subprocess_exec(
            self._binary,
            "-v",
            voice.name.removeprefix("espeak:"),
            "-s",
            str(round(WORDS_PER_MINUTE * voice.rate)),
            "--stdout",
            text,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            wav, _ = await asyncio.wait_for(process.communicate(), SYNTHESIS_TIMEOUT_SEC)
        except TimeoutError as exc:
            process.kill()
            await process.wait()
            raise Unavailable("espeak-ng did not finish a sentence in time") from exc
        if process.returncode != 0:
            raise Unavailable(f"espeak-ng failed (exit {process.returncode})")
        with wave.open(io.BytesIO(wav)) as reader:
            native = reader.getframerate()
            audio = pcm16_to_float(reader.readframes(reader.getnframes()))
        if not len(audio):
            return b""
        return float_to_pcm16(resample(np.asarray(audio), native, sample_rate))

    async def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        pcm = await self.render(text, voice, sample_rate)
        if pcm:
            yield pcm
