"""What the store keeps for call control over REST: idempotency keys and completion webhooks.

Both belong to a *client*: the gateway's id of the API key that sent the request (never
the key itself). The store only records them; the gateway decides what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

IDEMPOTENCY_TTL_SEC = 24 * 3600.0
"""How long an idempotency key is remembered (a retry after that dials again)."""


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first request sent with a client's idempotency key.

    ``call_id`` is empty while that request is still dialling (or when it never
    finished); ``fresh`` is true for the request that just claimed the key.
    """

    client: str
    key: str
    request_hash: str
    call_id: str = ""
    created_at: datetime | None = None
    fresh: bool = False


@dataclass(frozen=True)
class CallWebhook:
    """Where a call's completion report is posted, and whose secret signs it."""

    call_id: str
    url: str
    client: str
