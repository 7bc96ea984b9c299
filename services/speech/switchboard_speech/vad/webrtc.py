"""WebRTC VAD (``webrtcvad-wheels``): a few microseconds per frame, native 8 kHz."""

from __future__ import annotations

from switchboard_speech.vad.base import VadStream, VoiceActivityDetector


def aggressiveness(threshold: float) -> int:
    """Maps ``vad_threshold`` (0.1-1) to webrtcvad's modes 0-3; the default 0.5 is mode 2."""
    if threshold < 0.35:
        return 0
    if threshold < 0.5:
        return 1
    if threshold < 0.75:
        return 2
    return 3


class _WebRtcStream(VadStream):
    def __init__(self, sample_rate: int) -> None:
        import webrtcvad  # type: ignore[import-untyped]

        self._vad = webrtcvad.Vad(2)
        self._mode = 2
        self._rate = sample_rate

    def is_speech(self, frame: bytes, threshold: float) -> bool:
        mode = aggressiveness(threshold)
        if mode != self._mode:
            self._vad.set_mode(mode)
            self._mode = mode
        return bool(self._vad.is_speech(frame, self._rate))


class WebRtcVad(VoiceActivityDetector):
    """Fast and small; weak on noisy lines (prefer ``silero`` there)."""

    name = "webrtc"

    def stream(self, sample_rate: int) -> VadStream:
        return _WebRtcStream(sample_rate)
