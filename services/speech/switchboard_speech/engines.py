"""The provider registry: names in ``speech`` settings → loaded models, once per process.

Vendor modules are imported only when chosen, so an optional SDK that is not
installed costs nothing unless configured.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from switchboard.config import ConfigError, SpeechSettings
from switchboard_speech.stt.base import SpeechToText
from switchboard_speech.tts.base import TextToSpeech
from switchboard_speech.vad.base import VoiceActivityDetector

log = logging.getLogger(__name__)

VAD_PROVIDERS = {
    "webrtc": "switchboard_speech.vad.webrtc:WebRtcVad",
    "silero": "switchboard_speech.vad.silero:SileroVad",
}
STT_PROVIDERS = {
    "local": "switchboard_speech.stt.whisper:WhisperSTT",
    "azure": "switchboard_speech.stt.azure:AzureSTT",
}
TTS_PROVIDERS = {
    "local": "switchboard_speech.tts.piper:PiperTTS",
    "azure": "switchboard_speech.tts.azure:AzureTTS",
}


def load_provider(kind: str, name: str, table: dict[str, str], base: type[Any]) -> Any:
    """Instantiates the provider called ``name``; ConfigError names the valid choices."""
    target = table.get(name)
    if target is None:
        choices = ", ".join(sorted(table))
        raise ConfigError(f"speech.{kind}: unknown provider {name!r}; choose one of {choices}")
    module_name, _, class_name = target.partition(":")
    provider_cls = getattr(importlib.import_module(module_name), class_name)
    provider = provider_cls()
    if not isinstance(provider, base):
        raise ConfigError(f"speech.{kind}: {target} is not a {base.__name__}")
    return provider


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
    """Loads the configured providers (blocking: model files are read here)."""
    vad: VoiceActivityDetector = load_provider(
        "vad", settings.vad, VAD_PROVIDERS, VoiceActivityDetector
    )
    stt: SpeechToText = load_provider("stt", settings.stt, STT_PROVIDERS, SpeechToText)
    tts: TextToSpeech = load_provider("tts", settings.tts, TTS_PROVIDERS, TextToSpeech)
    return SpeechEngines(vad=vad, stt=stt, tts=tts)
