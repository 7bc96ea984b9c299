"""Who a client is, and how its completion webhooks are signed.

A *client* is an API key. The store records it by :func:`client_id` (a one-way digest),
never the key. Each key has its own webhook secret, :func:`webhook_secret`, derived from
the key with HMAC: the client computes it from its key (or reads it in the docs'
snippet), the gateway never stores it, and it changes when the key is rotated.

A delivery carries ``X-Switchboard-Signature: t=<unix seconds>,v1=<hex>`` where the hex
is HMAC-SHA256 under the secret of ``"<t>.<raw body>"``. A receiver recomputes it,
compares in constant time and refuses a ``t`` too far from its clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Switchboard-Signature"
DELIVERY_HEADER = "X-Switchboard-Delivery"
EVENT_HEADER = "X-Switchboard-Event"
CALL_ENDED = "call.ended"
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SEC = 300
_CLIENT_CONTEXT = b"switchboard client id v1|"
_SECRET_CONTEXT = b"switchboard webhook secret v1"


def client_id(api_key: str) -> str:
    """The stored name of an API key: a digest that does not reveal it."""
    return hashlib.sha256(_CLIENT_CONTEXT + api_key.encode()).hexdigest()[:32]


def webhook_secret(api_key: str) -> str:
    """The secret that signs the webhooks of calls placed with ``api_key``."""
    mac = hmac.new(api_key.encode(), _SECRET_CONTEXT, hashlib.sha256).hexdigest()
    return SECRET_PREFIX + mac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Switchboard-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, now: float, tolerance_sec: int = DEFAULT_TOLERANCE_SEC
) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` within ``tolerance_sec`` of ``now``
    (what a receiver does; several ``v1`` values are accepted, for secret rotation)."""
    parts = [p.partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    macs = [v.strip() for k, _, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not macs:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_sec:
        return False
    expected = signature(secret, timestamp, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, mac) for mac in macs)
