"""Two store replicas on one PostgreSQL database and one Redis, over real gRPC: a watch on
one sees what was written through the other; jobs queued by either reach the workers
through the streams, and an operator replays a dead one."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
import pytest
from redis.asyncio import Redis

from switchboard import domain
from switchboard.call_events import CallEvent, ClaimChange
from switchboard.config import RedisSettings, StoreSettings
from switchboard.errors import FailedPrecondition
from switchboard.jobs import POST_CALL, JobState
from switchboard.server import GrpcService
from switchboard.store_client import StoreClient
from switchboard_store.__main__ import SERVICE_NAMES, serve_repository
from switchboard_store.postgres_db import ConnectOptions
from switchboard_store.postgres_repository import PostgresCallRepository
from switchboard_store.redis_wiring import RedisStore, attach_redis

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
STEP_SEC = 5.0
DSN = os.environ.get("SWITCHBOARD_TEST_POSTGRES_DSN") or "postgresql://127.0.0.1:5432/test"


@dataclass
class Replica:
    service: GrpcService
    client: StoreClient
    on_redis: RedisStore


@pytest.fixture
async def replicas(
    redis: Redis, redis_settings: RedisSettings
) -> AsyncIterator[tuple[Replica, Replica]]:
    options = ConnectOptions(dsn=DSN, schema=f"redis_{uuid.uuid4().hex[:16]}", pool_max=4)
    settings = redis_settings.model_copy(update={"relay_poll_sec": 0.05})
    started: list[Replica] = []
    try:
        for _ in range(2):
            repository = await PostgresCallRepository.open(options, None, None, migrate=True)
            on_redis = attach_redis(
                repository, settings, StoreSettings(job_retry_backoff_sec=0.01), redis=redis
            )
            service = GrpcService("store", "127.0.0.1:0", SERVICE_NAMES)
            serve_repository(service, repository, on_redis.jobs)
            service.on_shutdown(on_redis.shutdown)
            port = await service.start()
            on_redis.start()
            started.append(Replica(service, StoreClient(f"127.0.0.1:{port}"), on_redis))
        for replica in started:
            await asyncio.wait_for(replica.on_redis.notifier.subscribed.wait(), STEP_SEC)
        yield started[0], started[1]
    finally:
        for replica in started:
            await replica.client.close()
            await replica.service.stop(grace=0.5)
        conn = await asyncpg.connect(DSN)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{options.schema}" CASCADE')
        finally:
            await conn.close()


async def test_a_watch_on_one_replica_sees_a_write_through_the_other(
    replicas: tuple[Replica, Replica], make_request: MakeRequest
) -> None:
    watched, written = replicas
    call = await written.client.create_call(make_request(), OUT)
    seen: list[CallEvent] = []
    started = asyncio.Event()

    async def watch() -> None:
        async for event in watched.client.watch_call(call.call_id):
            seen.append(event)
            started.set()
            if isinstance(event.payload, ClaimChange):
                return

    async with asyncio.timeout(STEP_SEC), asyncio.TaskGroup() as tasks:
        tasks.create_task(watch(), name="watcher")
        await started.wait()
        await written.client.update_claim(call.call_id, {"description": "dent"})

    assert [(e.seq, e.payload) for e in seen] == [
        (1, domain.CallState.CREATED),
        (2, ClaimChange("description", "dent")),
    ]


async def test_a_call_ended_on_one_replica_is_post_call_work_claimed_through_the_other(
    replicas: tuple[Replica, Replica], make_request: MakeRequest
) -> None:
    first, second = replicas
    call = await first.client.create_call(make_request(), OUT)
    await first.client.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await first.client.set_call_state(call.call_id, domain.CallState.ENDED)

    job = None
    async with asyncio.timeout(STEP_SEC):
        while job is None:  # the relay moves it from the outbox within a poll
            job = await second.client.claim_job("brain-2", [POST_CALL], 30)
            await asyncio.sleep(0.02)
    assert (job.job_id, job.call_id, job.attempts) == (
        f"post_call:{call.call_id}:1",
        call.call_id,
        1,
    )
    assert await first.client.claim_job("brain-1", [POST_CALL], 30) is None

    failed = await first.client.fail_job(job.job_id, job.lease_token, "boom")
    assert failed.state is JobState.PENDING


async def test_an_operator_replays_a_dead_job_through_either_replica(
    replicas: tuple[Replica, Replica], make_request: MakeRequest
) -> None:
    first, second = replicas
    queue = first.on_redis.jobs
    call = await first.client.create_call(make_request(), OUT)
    job_id = f"post_call:{call.call_id}:9"
    await queue.enqueue(job_id, POST_CALL, call.call_id)
    for _ in range(queue.policy.max_attempts):
        job = await second.client.claim_job("brain", [POST_CALL], 30)
        assert job is not None
        await second.client.fail_job(job.job_id, job.lease_token, "boom")
        await asyncio.sleep(0.1)  # past the back-off

    [dead] = await first.client.list_jobs(JobState.DEAD)
    assert dead.job_id == job_id
    replayed = await second.client.replay_job(job_id)
    assert (replayed.state, replayed.attempts) == (JobState.PENDING, 0)
    with pytest.raises(FailedPrecondition):
        await first.client.replay_job(job_id)
    assert await first.client.list_jobs(JobState.DEAD) == []
