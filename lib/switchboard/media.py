"""Stream messages shared by several contracts (``common.proto``): audio frames,
touch tones and the answer the bot expects; :mod:`switchboard.media_wire` converts them."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.domain import ClaimFieldType

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


@dataclass(frozen=True)
class ExpectedAnswer:
    """What the bot just asked the caller for: a value of ``type`` (phone numbers read
    in ``region``, ISO 3166). ``type`` None expects nothing in particular."""

    type: ClaimFieldType | None = None
    region: str = ""
