"""Stream messages shared by several contracts (``common.proto``): audio frames and
touch tones; :mod:`switchboard.media_wire` converts them."""

from __future__ import annotations

from dataclasses import dataclass

FRAME_MS = 20


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """20 ms of PCM16 little-endian mono audio; ``seq`` and ``timestamp_ms`` number it
    in its stream (0 when the sender does not)."""

    pcm: bytes
    seq: int = 0
    timestamp_ms: int = 0
    sample_rate: int = 0
    call_id: str = ""


@dataclass(frozen=True)
class Dtmf:
    """Touch-tone digits from the line."""

    digits: str
