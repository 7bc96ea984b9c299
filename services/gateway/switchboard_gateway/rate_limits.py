"""Rate limits on ``POST /call`` and on the pages: per API key and per source address.

Each limit is a token bucket that holds a minute's worth of requests and refills
continuously, so a client may burst up to its per-minute allowance and then goes at
that rate. A request over either limit is a 429 with ``Retry-After`` (whole seconds
until the bucket holds a token again) and changes nothing. The key is known only by
a hash of what the client sent (Bearer key or session cookie), so a wrong key is
limited too, and by address. Buckets are kept for the most recent clients only
(``MAX_CLIENTS``), so a flood of addresses cannot grow memory without bound.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard.config import RateLimitSettings
from switchboard_gateway.auth import SESSION_COOKIE
from switchboard_gateway.middleware import reject

MAX_CLIENTS = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class Buckets:
    """Token buckets of ``per_minute`` capacity, by client; least recently seen evicted."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def wait_for(self, client: str) -> float:
        """Seconds until ``client`` may send again; 0 when it may now (one token is taken)."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        rate = self.per_minute / 60.0
        bucket = self._buckets.pop(client, None) or Bucket(float(self.per_minute), now)
        bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        self._buckets[client] = bucket
        if len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


class RateLimit:
    """Applies the ``calls`` limits to ``POST /call`` and the ``pages`` limits to the pages."""

    def __init__(
        self,
        app: ASGIApp,
        settings: RateLimitSettings,
        pages: Sequence[str],
        clock: Callable[[], float],
    ) -> None:
        self.app = app
        self.pages = tuple(pages)
        self.limits = {
            "calls": (
                Buckets(settings.calls_per_key, clock),
                Buckets(settings.calls_per_address, clock),
            ),
            "pages": (
                Buckets(settings.pages_per_key, clock),
                Buckets(settings.pages_per_address, clock),
            ),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._kind(scope)
        if kind is not None:
            per_key, per_address = self.limits[kind]
            wait = max(per_key.wait_for(_key_of(scope)), per_address.wait_for(_address_of(scope)))
            if wait > 0:
                seconds = str(max(1, math.ceil(wait)))
                message = f"too many requests; retry in {seconds} s"
                await reject(429, message, {"Retry-After": seconds})(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _kind(self, scope: Scope) -> str | None:
        if scope["type"] != "http":
            return None
        path = str(scope["path"])
        if scope["method"] == "POST" and path == "/call":
            return "calls"
        if scope["method"] == "GET" and path.startswith(self.pages):
            return "pages"
        return None


def _key_of(scope: Scope) -> str:
    headers = Headers(scope=scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return "key:" + _digest(token.strip())
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            return "session:" + _digest(value)
    return "anonymous"


def _address_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "backslashreplace")).hexdigest()[:32]
