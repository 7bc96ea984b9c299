"""PCM16 audio as it travels between services: 20 ms mono little-endian frames."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr  # type: ignore[import-untyped]

from switchboard.errors import InvalidArgument

SAMPLE_RATES = (8000, 16000)
FRAME_MS = 20
BYTES_PER_SAMPLE = 2

FloatAudio = npt.NDArray[np.float32]


def frame_bytes(sample_rate: int) -> int:
    """Size of one 20 ms frame: 320 bytes at 8 kHz, 640 at 16 kHz."""
    return sample_rate * FRAME_MS // 1000 * BYTES_PER_SAMPLE


def check_sample_rate(sample_rate: int, what: str = "sample_rate") -> int:
    if sample_rate not in SAMPLE_RATES:
        raise InvalidArgument(f"{what} must be 8000 or 16000, got {sample_rate}")
    return sample_rate


def check_frame(pcm: bytes, sample_rate: int) -> bytes:
    """Rejects anything that is not exactly one 20 ms PCM16 frame at the stream's rate."""
    expected = frame_bytes(sample_rate)
    if len(pcm) % BYTES_PER_SAMPLE:
        raise InvalidArgument(
            f"audio frame has an odd length ({len(pcm)} bytes); PCM16 needs 2 bytes per sample"
        )
    if len(pcm) != expected:
        raise InvalidArgument(
            f"audio frame is {len(pcm)} bytes; a 20 ms PCM16 frame at {sample_rate} Hz "
            f"is {expected} bytes"
        )
    return pcm


def pcm16_to_float(pcm: bytes) -> FloatAudio:
    return (np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def float_to_pcm16(audio: npt.NDArray[np.floating]) -> bytes:
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def resample(audio: FloatAudio, from_rate: int, to_rate: int) -> FloatAudio:
    """Band-limited resampling with soxr (high quality)."""
    if from_rate == to_rate:
        return audio
    out = soxr.resample(audio, from_rate, to_rate, quality="HQ")
    return np.asarray(out, dtype=np.float32)


def split_frames(pcm: bytes, sample_rate: int) -> list[bytes]:
    """Cuts PCM16 into 20 ms frames, padding the last one with silence."""
    size = frame_bytes(sample_rate)
    frames = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    if frames and len(frames[-1]) < size:
        frames[-1] = frames[-1] + b"\x00" * (size - len(frames[-1]))
    return frames
