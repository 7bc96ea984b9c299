"""The Redis connection every service opens the same way, and the names it uses there.

Redis is optional (``redis.enabled``); ``redis-py`` is imported only when it is on, and
a missing package is a :class:`~switchboard.config.ConfigError` that says what to
install. Every key, channel and stream is named by :class:`RedisNames`, under
``redis.key_prefix``, so several installs (and tests) can share one server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.config import ConfigError, RedisSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def open_redis(settings: RedisSettings) -> Redis:
    """A pooled asyncio client for ``settings.url`` (it connects on first use)."""
    try:
        from redis.asyncio import Redis
    except ImportError as exc:
        raise ConfigError(
            "redis.enabled needs the package 'redis' (redis-py), which is not installed; "
            "install it with: pip install -r requirements.txt"
        ) from exc
    return Redis.from_url(
        settings.url,
        password=settings.password or None,
        decode_responses=True,
        health_check_interval=30,
    )


@dataclass(frozen=True)
class RedisNames:
    """Where each thing lives in Redis, all under one prefix."""

    prefix: str
    events_channel: str = "call-events"
    jobs_stream: str = "jobs"
    dead_letter_stream: str = "jobs-dead"
    consumer_group: str = "workers"

    @classmethod
    def from_settings(cls, settings: RedisSettings) -> RedisNames:
        return cls(
            prefix=settings.key_prefix,
            events_channel=settings.events_channel,
            jobs_stream=settings.jobs_stream,
            dead_letter_stream=settings.dead_letter_stream,
            consumer_group=settings.consumer_group,
        )

    @property
    def events(self) -> str:
        """The pub/sub channel carrying ``call_id -> newest event seq`` after commits."""
        return self.prefix + self.events_channel

    def stream(self, kind: str) -> str:
        """The stream of one job kind (a worker reads only the kinds it does)."""
        return f"{self.prefix}{self.jobs_stream}:{kind}"

    @property
    def dead_letters(self) -> str:
        return self.prefix + self.dead_letter_stream

    def job(self, job_id: str) -> str:
        """The hash holding one job's state (its idempotency record)."""
        return f"{self.prefix}job:{job_id}"

    @property
    def job_index(self) -> str:
        """Every known job id, scored by when it was queued (what ``ListJobs`` pages)."""
        return f"{self.prefix}jobs-index"

    @property
    def delayed(self) -> str:
        """Failed jobs waiting out their back-off, scored by when they are due."""
        return f"{self.prefix}jobs-delayed"

    def live_call(self, call_id: str) -> str:
        """The brain's cached working copy of a live call."""
        return f"{self.prefix}live-call:{call_id}"
