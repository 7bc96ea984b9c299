"""The real Redis the tests use (``make test`` starts it): one key prefix per test.

``SWITCHBOARD_TEST_REDIS_URL`` names it (default ``redis://127.0.0.1:6379/15``). Every
test gets its own prefix, so tests share the server without seeing each other, and
everything under that prefix is deleted when the test ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from switchboard.config import RedisSettings
from switchboard.redis_link import open_redis

REDIS_URL_ENV = "SWITCHBOARD_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_settings_for_test(**overrides: object) -> RedisSettings:
    """``redis:`` settings on the test server under a fresh prefix (enabled)."""
    values: dict[str, object] = {
        "enabled": True,
        "url": os.environ.get(REDIS_URL_ENV) or DEFAULT_REDIS_URL,
        "key_prefix": f"test-{uuid.uuid4().hex[:12]}.",  # no colon: env values are YAML
        **overrides,
    }
    return RedisSettings.model_validate(values)


async def delete_prefix(redis: Redis, prefix: str) -> None:
    """Deletes every key under ``prefix``."""
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await redis.delete(*keys)


@asynccontextmanager
async def redis_for_test(settings: RedisSettings) -> AsyncIterator[Redis]:
    """A client on the test server; the prefix's keys are gone afterwards."""
    redis = open_redis(settings)
    try:
        await redis.ping()
        yield redis
    finally:
        await delete_prefix(redis, settings.key_prefix)
        await redis.aclose()
