"""The speech providers: names in ``speech`` settings → loaded models, once per process.

Each seam goes through the shared registry, so vendor modules are imported only
when chosen and a missing SDK names the requirements file that installs it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from switchboard.config import ConfigError, SpeechSettings
from switchboard.providers import Seam, Vendor, create
from switchboard_speech.stt.base import SpeechToText
from switchboard_speech.tts.base import TextToSpeech
from switchboard_speech.vad.base import VoiceActivityDetector

log = logging.getLogger(__name__)

_LOCAL = "requirements-speech.txt"
_AZURE = "requirements-azure.txt"

VAD = Seam(
    "speech.vad",
    VoiceActivityDetector,
    {
        "webrtc": Vendor("switchboard_speech.vad.webrtc:WebRtcVad", extra=_LOCAL),
        "silero": Vendor("switchboard_speech.vad.silero:SileroVad", extra=_LOCAL),
    },
)
STT = Seam(
    "speech.stt",
    SpeechToText,
    {
        "local": Vendor("switchboard_speech.stt.whisper:WhisperSTT", extra=_LOCAL),
        "azure": Vendor("switchboard_speech.stt.azure:AzureSTT", extra=_AZURE),
        # No model: for the whole-system benchmarks (bench/cluster), never for callers.
        "instant": Vendor("switchboard_speech.stt.instant:InstantSTT"),
    },
)
TTS = Seam(
    "speech.tts",
    TextToSpeech,
    {
        "local": Vendor("switchboard_speech.tts.local:LocalTTS", extra=_LOCAL),
        "azure": Vendor("switchboard_speech.tts.azure:AzureTTS", extra=_AZURE),
        "instant": Vendor("switchboard_speech.tts.instant:InstantTTS"),
    },
)


@dataclass
class SpeechEngines:
    """The models of one process, shared by every stream."""

    vad: VoiceActivityDetector
    stt: SpeechToText
    tts: TextToSpeech

    def warm_up(self) -> None:
        """Blocking: run it in a thread at startup."""
        for name, engine in (("vad", self.vad), ("stt", self.stt), ("tts", self.tts)):
            started = time.perf_counter()
            engine.warm_up()
            log.info(
                "engine warmed up",
                extra={
                    "engine": name,
                    "provider": engine.name,
                    "ms": round(1000 * (time.perf_counter() - started)),
                },
            )

    def close(self) -> None:
        self.vad.close()
        self.stt.close()
        self.tts.close()


def build_engines(settings: SpeechSettings) -> SpeechEngines:
    """Loads the configured providers (blocking: model files are read here), and checks
    that they serve every language of ``speech.languages``."""
    engines = SpeechEngines(
        vad=create(VAD, settings.vad),
        stt=create(STT, settings.stt),
        tts=create(TTS, settings.tts),
    )
    check_languages(engines, settings.languages)
    return engines


def check_languages(engines: SpeechEngines, languages: list[str]) -> None:
    """A ConfigError naming each language of ``speech.languages`` a provider cannot serve:
    the gateway and the brain trust that list, so it must hold before a call comes."""
    missing = [
        f"{lang} (speech.{seam}: {engine.name})"
        for lang in languages
        for seam, engine in (("stt", engines.stt), ("tts", engines.tts))
        if not engine.supports_lang(lang)
    ]
    if missing:
        engines.close()
        raise ConfigError(
            f"speech.languages lists what the providers cannot serve: {', '.join(missing)}; "
            "remove it, or choose providers that serve it (other languages than English "
            "need the multilingual whisper packages of requirements-speech.txt locally)"
        )
