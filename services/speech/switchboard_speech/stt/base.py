"""The STT capability: the audio of one utterance in, its text out.

The Listen session finds utterances with the VAD and hands each one to the
provider as an :class:`Utterance`. It also says when the caller falls silent
(``silence_started``) and when they go on (``speech_resumed``), so a provider
can start decoding speculatively and have the text ready when the silence
window closes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Recognition:
    text: str
    confidence: float
    lang: str


PartialCallback = Callable[[Recognition], None]


class Utterance(ABC):
    """One utterance being recognised. Methods are called on the event loop."""

    @abstractmethod
    def push(self, pcm: bytes) -> None:
        """Appends 20 ms of PCM16 at the stream's rate."""

    def silence_started(self) -> None:  # noqa: B027 - optional hint
        """The caller paused; everything pushed so far may be the whole utterance."""

    def speech_resumed(self) -> None:  # noqa: B027 - optional hint
        """The caller went on after a pause; a speculative result is now stale."""

    def heard_so_far(self) -> Recognition | None:
        """The text of the audio pushed so far if it is already known (a speculative
        decode that finished), without waiting; None otherwise."""
        return None

    @abstractmethod
    async def finish(self) -> Recognition:
        """No more audio: the final text."""

    async def discard(self) -> None:  # noqa: B027 - nothing to release by default
        """The utterance is dropped (too short, stream ended); release what it holds."""


class SpeechToText(ABC):
    """A recogniser, loaded once per process and shared by every stream."""

    name: str = ""
    #: Whether :meth:`utterance` calls ``on_partial`` with interim text.
    has_partials: bool = False

    def warm_up(self) -> None:  # noqa: B027 - remote providers have nothing to warm
        """Runs a tiny inference so the first caller does not pay for lazy init."""

    def supports_lang(self, lang: str) -> bool:
        return True

    @abstractmethod
    def utterance(self, sample_rate: int, lang: str, on_partial: PartialCallback) -> Utterance:
        """Starts recognising one utterance."""

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Releases the model and worker threads."""
