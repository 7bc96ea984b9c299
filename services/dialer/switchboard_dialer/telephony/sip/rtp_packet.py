"""RTP packets (RFC 3550 §5.1): the fixed header, CSRCs, extension and padding."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("!BBHII")


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def to_bytes(self) -> bytes:
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        header = HEADER.pack(
            0x80, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc
        )
        return header + self.payload

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket | None:
        """The packet, or ``None`` if ``data`` is not RTP version 2."""
        if len(data) < HEADER.size:
            return None
        first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
        if first >> 6 != 2:
            return None
        offset = HEADER.size + 4 * (first & 0x0F)
        if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
            if len(data) < offset + 4:
                return None
            (words,) = struct.unpack_from("!H", data, offset + 2)
            offset += 4 + 4 * words
        end = len(data)
        if first & 0x20:  # padding: the last byte says how many bytes to drop
            end -= data[-1]
        if offset > end:
            return None
        return cls(second & 0x7F, sequence, timestamp, ssrc, data[offset:end], bool(second & 0x80))
