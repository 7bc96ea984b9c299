"""Per-call secrets in the URLs a carrier is given (media socket, callbacks).

The token is an HMAC of the call id under the carrier's auth secret, so any
gateway replica can check it without shared state and no token is ever stored.
A token for one call is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac


def call_token(secret: str, call_id: str, purpose: str = "media") -> str:
    """The token for ``call_id``'s ``purpose`` (``media``, ``status``)."""
    message = f"{purpose}:{call_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def check_call_token(secret: str, call_id: str, token: str, purpose: str = "media") -> bool:
    """Whether ``token`` is ``call_id``'s; constant time, False without a secret."""
    if not secret or not call_id or not token:
        return False
    return hmac.compare_digest(call_token(secret, call_id, purpose), token)
