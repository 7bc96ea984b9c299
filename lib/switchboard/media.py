"""Stream messages shared by several contracts (``common.proto``): audio frames,
touch tones and the answer the bot expects; :mod:`switchboard.media_wire` converts them.

Between services an :class:`AudioFrame` may carry several 20 ms frames back to back
(a *chunk*): every message costs a gRPC hop, so links whose timing allows it (the
caller's audio towards recognition, synthesized audio towards playout) send a few
frames a message. :func:`frames_of` cuts a chunk back into 20 ms frames where a
consumer works frame by frame (the VAD, the playout).
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.domain import ClaimFieldType

FRAME_MS = 20
BYTES_PER_SAMPLE = 2


def frame_bytes(sample_rate: int) -> int:
    """Size of one 20 ms PCM16 frame: 320 bytes at 8 kHz, 640 at 16 kHz."""
    return sample_rate * FRAME_MS // 1000 * BYTES_PER_SAMPLE


def whole_frames(pcm: bytes, sample_rate: int) -> int:
    """How many 20 ms frames ``pcm`` holds; 0 when it is not a whole number of them
    (or empty, or the rate is not positive)."""
    size = frame_bytes(sample_rate)
    if size <= 0 or not pcm:
        return 0
    count, rest = divmod(len(pcm), size)
    return 0 if rest else count


def frames_of(pcm: bytes, sample_rate: int) -> list[bytes]:
    """A chunk cut into its 20 ms frames (a trailing partial frame is kept as it is)."""
    size = frame_bytes(sample_rate)
    if len(pcm) <= size or size <= 0:
        return [pcm]
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """20 ms of PCM16 little-endian mono audio (on the links that batch, a chunk of
    several: see the module's docstring); ``seq`` and ``timestamp_ms`` number its first
    frame in its stream (0 when the sender does not)."""

    pcm: bytes
    seq: int = 0
    timestamp_ms: int = 0
    sample_rate: int = 0
    call_id: str = ""


@dataclass(frozen=True)
class Dtmf:
    """Touch-tone digits from the line."""

    digits: str


@dataclass(frozen=True)
class ExpectedAnswer:
    """What the bot just asked the caller for: a value of ``type`` (phone numbers read
    in ``region``, ISO 3166). ``type`` None expects nothing in particular."""

    type: ClaimFieldType | None = None
    region: str = ""
