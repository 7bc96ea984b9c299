"""Per-call tokens in carrier URLs (callback and media socket), checked without state.

A token is an HMAC of the call id under a key every gateway and dialer replica
shares (``acs.url_signing_key``), so any replica can check any call's token and a
call's URLs cannot be guessed from its id. It authenticates the URL on top of the
carrier's own signature (the ACS JWT), which any call of the same resource carries.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_CHARS = 32


def call_token(key: str, call_id: str) -> str:
    """The token of ``call_id`` under ``key`` (hex, :data:`TOKEN_CHARS` long)."""
    if not key:
        raise ValueError("a URL signing key is required to sign carrier URLs")
    digest = hmac.new(key.encode(), f"call:{call_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_CHARS]


def token_matches(key: str, call_id: str, token: str) -> bool:
    """Whether ``token`` is ``call_id``'s; constant-time, False without a key."""
    if not key or not call_id or not token:
        return False
    return hmac.compare_digest(call_token(key, call_id), token)
