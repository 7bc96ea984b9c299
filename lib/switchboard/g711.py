"""G.711 µ-law and A-law with numpy lookup tables (``audioop`` is gone in Python 3.13).

Shared by the dialer's SIP RTP and the gateway's Twilio Media Streams bridge.

Encoding looks up all 65,536 PCM16 values in a precomputed table; decoding looks up
the 256 codes. The tables are built once from the ITU-T G.711 segment rules and give
the same bytes as CPython's ``audioop`` for every input.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Codec = Literal["PCMU", "PCMA"]


def _segment(magnitude: npt.NDArray[np.int32], ends: tuple[int, ...]) -> npt.NDArray[np.int32]:
    """The G.711 segment of each magnitude: the first segment end it does not exceed."""
    return np.searchsorted(np.array(ends), magnitude, side="left").astype(np.int32)


def _ulaw_table() -> npt.NDArray[np.uint8]:
    # The ITU-T reference works on 14-bit samples: a 16-bit input shifted right by 2.
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), 8159) + (0x84 >> 2)
    segment = _segment(magnitude, (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF))
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


def _alaw_table() -> npt.NDArray[np.uint8]:
    # A-law works on 13-bit samples: a 16-bit input shifted right by 3.
    pcm = np.arange(-32768, 32768, dtype=np.int32) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    magnitude = np.where(pcm >= 0, pcm, -pcm - 1)
    segment = _segment(magnitude, (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF))
    shift = np.where(segment < 2, 1, segment)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8)


def _ulaw_decode_one(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + 0x84) << exponent) - 0x84
    return -magnitude if code & 0x80 else magnitude


def _alaw_decode_one(code: int) -> int:
    code ^= 0x55
    mantissa = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        mantissa += 8
    elif segment == 1:
        mantissa += 0x108
    else:
        mantissa = (mantissa + 0x108) << (segment - 1)
    return mantissa if code & 0x80 else -mantissa


def _by_bit_pattern(table: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A table indexed from -32768 re-indexed by the sample's 16 bits read unsigned
    (0..32767, then -32768..-1): a sample indexes it as it is, with no conversion."""
    return np.concatenate([table[32768:], table[:32768]])


# Per frame this is on the media path of every call: one lookup each way, no copies.
_ENCODE: dict[Codec, npt.NDArray[np.uint8]] = {
    "PCMU": _by_bit_pattern(_ulaw_table()),
    "PCMA": _by_bit_pattern(_alaw_table()),
}
_DECODE: dict[Codec, npt.NDArray[np.int16]] = {
    "PCMU": np.array([_ulaw_decode_one(c) for c in range(256)], dtype="<i2"),
    "PCMA": np.array([_alaw_decode_one(c) for c in range(256)], dtype="<i2"),
}


def encode(pcm: bytes, codec: Codec) -> bytes:
    """PCM16 little-endian → one G.711 byte per sample."""
    payload: bytes = _ENCODE[codec][np.frombuffer(pcm, dtype="<u2")].tobytes()
    return payload


def decode(payload: bytes, codec: Codec) -> bytes:
    """G.711 bytes → PCM16 little-endian."""
    pcm: bytes = _DECODE[codec][np.frombuffer(payload, dtype=np.uint8)].tobytes()
    return pcm
