"""RFC 4733 telephone-events: DTMF digits as RTP payloads."""

from __future__ import annotations

import struct
from dataclasses import dataclass

DIGITS = "0123456789*#ABCD"
EVENT_DURATION_SAMPLES = 800  # 100 ms at 8 kHz
END_REPEATS = 3  # the end packet is sent three times (RFC 4733 §2.5.1.4)
GAP_FRAMES = 3  # 60 ms of audio between two digits
VOLUME = 10  # -10 dBm0


@dataclass(frozen=True)
class DtmfEvent:
    digit: str
    end: bool
    duration: int


def encode(digit: str, end: bool, duration: int) -> bytes:
    event = DIGITS.index(digit)
    return struct.pack("!BBH", event, (0x80 if end else 0) | VOLUME, min(duration, 0xFFFF))


def decode(payload: bytes) -> DtmfEvent | None:
    """The event in a telephone-event payload; ``None`` for events that are not digits."""
    if len(payload) < 4:
        return None
    event, flags, duration = struct.unpack("!BBH", payload[:4])
    if event >= len(DIGITS):
        return None
    return DtmfEvent(DIGITS[event], bool(flags & 0x80), duration)
