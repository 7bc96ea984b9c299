"""The VAD capability: is this 20 ms frame speech?"""

from __future__ import annotations

from abc import ABC, abstractmethod


class VadStream(ABC):
    """Per-stream detector state (a recurrent model keeps context between frames)."""

    @abstractmethod
    def is_speech(self, frame: bytes, threshold: float) -> bool:
        """``frame`` is 20 ms of PCM16; ``threshold`` is the live ``vad_threshold`` (0.1-1)."""


class VoiceActivityDetector(ABC):
    """A VAD model, loaded once per process and shared by every stream.

    Calls take microseconds (webrtc) to a fraction of a millisecond (Silero), so they
    run on the event loop: a thread hop would cost more than the work.
    """

    name: str = ""

    def warm_up(self) -> None:
        """Runs a tiny inference so the first caller does not pay for lazy init."""
        stream = self.stream(16000)
        stream.is_speech(b"\x00" * 640, 0.5)

    @abstractmethod
    def stream(self, sample_rate: int) -> VadStream:
        """A fresh detector state for one Listen stream."""

    def close(self) -> None:  # noqa: B027 - most detectors hold nothing to release
        """Releases the model."""
