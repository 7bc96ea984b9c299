"""espeak-ng (the Debian package's CLI): the offline voice of languages Piper has no
voice for here, French first (``fr-FR``).

A formant synthesiser: robotic, but in every language espeak-ng knows, instant
(~14 ms to the first audio, process start included) and without a model file. Each
sentence is one ``espeak-ng --stdout`` process; its 22.05 kHz WAV is resampled to the
call's rate.

A voice a request names (``lang.availables``) is used when espeak-ng has it for the
call's language: a language voice (``fr-be``), optionally with a variant
(``fr-fr+f3``, a female voice), with or without the ``espeak:`` prefix.
"""

from __future__ import annotations

import asyncio
import functools
import io
import shutil
import subprocess
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


@functools.cache
def installed_voices(binary: str) -> tuple[dict[str, str], frozenset[str]]:
    """espeak-ng's language voices (``fr-fr``) with their files (``fr``), and its
    variants (``f3``); listed once."""

    def listing(*args: str) -> list[list[str]]:
        done = subprocess.run(  # a few ms, once per process
            [binary, *args], capture_output=True, text=True, timeout=10, check=False
        )
        return [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]

    languages = {
        row[1].lower(): row[4].rsplit("/", 1)[-1].lower()
        for row in listing("--voices")
        if len(row) > 4
    }
    variants = frozenset(
        row[-1].rsplit("/", 1)[-1].lower() for row in listing("--voices=variant") if len(row) > 4
    )
    return languages, variants


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
        if voice.name:
            name = self._named(voice.name, voice.lang)
        return Voice(name=f"espeak:{name}", lang=voice.lang, rate=voice.rate)

    def _named(self, name: str, lang: str) -> str:
        """``name`` as espeak-ng calls it, when it has that voice for ``lang``."""
        wanted = name.removeprefix("espeak:").lower()
        base, _, variant = wanted.partition("+")
        languages, variants = installed_voices(self._binary)
        if (
            base in languages
            and primary(base) == primary(lang)
            and (not variant or variant in variants)
        ):
            # With a variant espeak-ng wants the voice's file ("fr+f3"): "fr-fr+f3"
            # silently speaks the plain voice.
            return f"{languages[base]}+{variant}" if variant else base
        raise InvalidArgument(
            f"espeak-ng has no voice {name!r} for {lang!r}; name a voice of that language "
            f"(e.g. {voice_name(lang)} or {voice_name(lang)}+f3)"
        )

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
