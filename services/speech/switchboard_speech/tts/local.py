"""The embedded default voice: Piper (neural, ``joe``) for English, espeak-ng for French
and the other languages it has a voice for. Chosen per Speak stream by its language."""

from __future__ import annotations

from collections.abc import AsyncIterator

from switchboard_speech.tts.base import TextToSpeech, Voice
from switchboard_speech.tts.espeak import EspeakTTS
from switchboard_speech.tts.piper import PiperTTS


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
        return self._for(voice.lang).resolve(voice)

    def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        return self._for(voice.lang).synthesize(text, voice, sample_rate)

    def close(self) -> None:
        self.piper.close()
        self.espeak.close()
