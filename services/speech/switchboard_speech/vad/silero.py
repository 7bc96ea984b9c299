"""Silero VAD v6 run directly with onnxruntime (the ONNX file of the ``silero-vad`` wheel).

``import silero_vad`` would pull in torch, so only the packaged model file is used
(install the wheel with ``--no-deps``). The model takes 256-sample windows at 8 kHz
and 512 at 16 kHz plus a short context, so 20 ms frames are buffered into windows
and a frame's decision is the latest window's probability.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from switchboard_speech.audio import pcm16_to_float
from switchboard_speech.vad.base import VadStream, VoiceActivityDetector

_WINDOW = {8000: 256, 16000: 512}
_CONTEXT = {8000: 32, 16000: 64}


def model_path() -> Path:
    """Found without importing ``silero_vad`` (its ``__init__`` imports torch)."""
    spec = importlib.util.find_spec("silero_vad")
    folders = list(spec.submodule_search_locations or []) if spec else []
    path = Path(folders[0] if folders else "/nonexistent") / "data" / "silero_vad.onnx"
    if not path.exists():
        raise FileNotFoundError(
            "silero_vad.onnx not found; install it with `pip install --no-deps silero-vad==6.2.3` "
            "(requirements-nodeps.txt)"
        )
    return path


class _SileroStream(VadStream):
    def __init__(self, session: Any, sample_rate: int) -> None:
        self._session = session
        self._rate = sample_rate
        self._window = _WINDOW[sample_rate]
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT[sample_rate]), dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._probability = 0.0
        self._sr = np.array(sample_rate, dtype=np.int64)

    def is_speech(self, frame: bytes, threshold: float) -> bool:
        self._pending = np.concatenate([self._pending, pcm16_to_float(frame)])
        while len(self._pending) >= self._window:
            window = self._pending[: self._window].reshape(1, -1)
            self._pending = self._pending[self._window :]
            x = np.concatenate([self._context, window], axis=1)
            out, self._state = self._session.run(
                None, {"input": x, "state": self._state, "sr": self._sr}
            )
            self._context = x[:, -self._context.shape[1] :]
            self._probability = float(out[0][0])
        return self._probability >= threshold


class SileroVad(VoiceActivityDetector):
    """Robust to noise; ~0.2 ms per frame on one thread."""

    name = "silero"

    def __init__(self) -> None:
        import onnxruntime  # type: ignore[import-untyped]

        options = onnxruntime.SessionOptions()
        # Many streams share one session: keep each call on the calling thread.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def stream(self, sample_rate: int) -> VadStream:
        return _SileroStream(self._session, sample_rate)
