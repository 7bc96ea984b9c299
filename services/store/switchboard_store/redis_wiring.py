"""The store on Redis (``redis.enabled``): events across replicas, jobs on streams.

Off, the store keeps its in-process notifier and serves jobs from its database. On,
the repository's notifier becomes a :class:`RedisEventNotifier`, the job RPCs go to a
:class:`RedisJobQueue`, and an :class:`OutboxRelay` moves the jobs each commit queues
in the database onto their streams.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from redis.asyncio import Redis

from switchboard.config import RedisSettings, StoreSettings
from switchboard.jobs import KINDS
from switchboard.redis_link import RedisNames, open_redis
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.job_relay import OutboxRelay
from switchboard_store.redis_events import RedisEventNotifier
from switchboard_store.redis_jobs import RedisJobQueue
from switchboard_store.repository import CallRepository


@dataclass
class RedisStore:
    """What the store runs on Redis; :meth:`start` after wiring, :meth:`close` at stop."""

    redis: Redis
    notifier: RedisEventNotifier
    jobs: RedisJobQueue
    relay: OutboxRelay

    def start(self) -> None:
        self.notifier.start()
        self.relay.start()

    async def shutdown(self) -> None:
        """Ends the watches (so WatchCall streams finish) and stops relaying."""
        await self.relay.stop()
        await self.notifier.aclose()

    async def close(self) -> None:
        await self.redis.aclose()


def attach_redis(
    repository: CallRepository,
    settings: RedisSettings,
    store: StoreSettings,
    redis: Redis | None = None,
) -> RedisStore:
    """Puts ``repository`` on Redis: its notifier is replaced; jobs go through streams."""
    client = redis or open_redis(settings)
    names = RedisNames.from_settings(settings)
    notifier = RedisEventNotifier(client, names)
    repository.notifier = notifier
    jobs = RedisJobQueue(
        client,
        names,
        settings.visibility_timeout_sec,
        RetryPolicy(max_attempts=settings.max_deliveries, backoff_sec=store.job_retry_backoff_sec),
        done_ttl_sec=settings.done_ttl_sec,
    )
    relay = OutboxRelay(
        repository.jobs,
        jobs,
        KINDS,
        f"outbox-relay@{socket.gethostname()}:{os.getpid()}",
        settings.relay_poll_sec,
    )
    notifier.on_commit = relay.wake
    return RedisStore(client, notifier, jobs, relay)
