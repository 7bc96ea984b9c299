"""Per-call tokens in the URLs a carrier is given (media socket, callbacks), checked
without state.

A token is an HMAC of the call id and its purpose under a key every gateway and dialer
replica shares (Twilio: the auth token; ACS: ``acs.url_signing_key``), so any replica
can check any call's token, no token is ever stored, and a call's URLs cannot be
guessed from its id. It authenticates the URL on top of the carrier's own signature
(``X-Twilio-Signature``, the ACS JWT), which any call of the same account carries. A
token for one call, or one purpose, is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac

TOKEN_CHARS = 32


def call_token(key: str, call_id: str, purpose: str = "call") -> str:
    """The token of ``call_id`` for ``purpose`` (hex, :data:`TOKEN_CHARS` long)."""
    if not key:
        raise ValueError("a URL signing key is required to sign carrier URLs")
    message = f"{purpose}:{call_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:TOKEN_CHARS]


def check_call_token(key: str, call_id: str, token: str, purpose: str = "call") -> bool:
    """Whether ``token`` is ``call_id``'s for ``purpose``; constant time, False without a key."""
    if not key or not call_id or not token:
        return False
    return hmac.compare_digest(call_token(key, call_id, purpose), token)


# Routes: which dialer replica runs a call. The replica that places (or answers) a call
# puts its own address (``dialer.advertise_address``) in the carrier's URLs for it, as
# ``{address}~{token}``; the token binds the address to the call, so a gateway opens a
# channel only to an address a dialer signed, never to one a request made up.
ROUTE_PARAM = "dialer"
_ROUTE_SEPARATOR = "~"


def route_value(key: str, call_id: str, address: str) -> str:
    """The signed route to ``address`` for ``call_id``; "" without an address."""
    if not address:
        return ""
    token = call_token(key, call_id, f"route:{address}")
    return f"{address}{_ROUTE_SEPARATOR}{token}"


def routed_address(key: str, call_id: str, value: str) -> str | None:
    """The dialer address of a signed route: "" when there is no route, None when the
    route is not this call's (forged, or for another call)."""
    if not value:
        return ""
    address, _, token = value.rpartition(_ROUTE_SEPARATOR)
    if not address or not check_call_token(key, call_id, token, f"route:{address}"):
        return None
    return address
