"""The TTS capability: a sentence in, PCM16 at the call's rate out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

MIN_RATE = 0.75
MAX_RATE = 1.25


@dataclass(frozen=True)
class Voice:
    """How a Speak stream sounds: provider voice name, language, speaking rate."""

    name: str
    lang: str
    rate: float = 1.0


class TextToSpeech(ABC):
    """A synthesiser, loaded once per process and shared by every stream."""

    name: str = ""

    def warm_up(self) -> None:  # noqa: B027 - remote providers have nothing to warm
        """Runs a tiny synthesis so the first caller does not pay for lazy init."""

    def supports_lang(self, lang: str) -> bool:
        """Whether it has a voice for ``lang`` (checked against ``speech.languages``)."""
        return True

    @abstractmethod
    def resolve(self, voice: Voice) -> Voice:
        """The voice to use (defaults filled in); raises ``InvalidArgument`` naming the choices."""

    @abstractmethod
    def synthesize(self, text: str, voice: Voice, sample_rate: int) -> AsyncIterator[bytes]:
        """PCM16 chunks of one sentence at ``sample_rate``, the first as soon as it exists."""

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Releases the model and worker threads."""
