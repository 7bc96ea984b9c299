"""The embedded default voice: Piper (neural, ``joe``) for English, espeak-ng for French
and the other languages it has a voice for. Chosen per Speak stream by its language.

A voice the request names (``lang.availables``) is used when the engine has it; a
name it does not have (often another provider's, such as Azure's
``fr-FR-DeniseNeural``) gives way to the language's default voice, with a warning,
instead of failing the call."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

from switchboard.errors import InvalidArgument
from switchboard_speech.tts.base import TextToSpeech, Voice
from switchboard_speech.tts.espeak import EspeakTTS
from switchboard_speech.tts.piper import PiperTTS

log = logging.getLogger(__name__)


def _is_english(lang: str) -> bool:
    return not lang or lang.lower().startswith("en")


class LocalTTS(TextToSpeech):
    """Piper for English, espeak-ng for the rest."""

    name = "local"

    def __init__(self, threads: int = 2) -> None:
        self.piper = PiperTTS(threads)
        self.espeak = EspeakTTS()

    def _for(self, lang: str) -> TextToSpeech:
        return self.piper if _is_english(lang) else self.espeak

    def supports_lang(self, lang: str) -> bool:
        return _is_english(lang) or self.espeak.supports_lang(lang)

    def warm_up(self) -> None:
        self.piper.warm_up()

    def resolve(self, voice: Voice) -> Voice:
        engine = self._for(voice.lang)
        try:
            return engine.resolve(voice)
        except InvalidArgument as exc:
            if not voice.name:
                raise
            log.warning(
                "named voice not available locally; the language's default speaks",
                extra={"voice": voice.name, "lang": voice.lang, "error": exc.message},
            )
            return engine.resolve(replace(voice, name=""))

    def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        return self._for(voice.lang).synthesize(text, voice, sample_rate)

    def close(self) -> None:
        self.piper.close()
        self.espeak.close()
