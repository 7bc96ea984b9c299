"""G.711 lives in :mod:`switchboard.g711` (the gateway's carrier bridges need it too)."""

from switchboard.g711 import Codec, decode, encode, table_decode, table_encode

__all__ = ["Codec", "decode", "encode", "table_decode", "table_encode"]
