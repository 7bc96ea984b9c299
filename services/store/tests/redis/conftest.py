"""Fixtures of the store's Redis tests: the real server under a prefix of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from switchboard.config import RedisSettings
from switchboard.redis_link import RedisNames
from switchboard_testing.redis_server import redis_for_test, redis_settings_for_test


@pytest.fixture
def redis_settings() -> RedisSettings:
    return redis_settings_for_test(visibility_timeout_sec=0.2, max_deliveries=3)


@pytest.fixture
async def redis(redis_settings: RedisSettings) -> AsyncIterator[Redis]:
    async with redis_for_test(redis_settings) as client:
        yield client


@pytest.fixture
def names(redis_settings: RedisSettings) -> RedisNames:
    return RedisNames.from_settings(redis_settings)
