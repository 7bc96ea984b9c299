"""``switchboard jobs`` against a real store on Redis: the dead letters are listed, one is
replayed, and the store's refusals come back as a message and exit code 1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.config import Settings, StoreSettings
from switchboard.jobs import POST_CALL, JobState
from switchboard.server import GrpcService
from switchboard_cli.cli import build_parser
from switchboard_cli.jobs import run_jobs
from switchboard_store.__main__ import SERVICE_NAMES, serve_repository
from switchboard_store.redis_jobs import RedisJobQueue
from switchboard_store.redis_wiring import attach_redis
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.redis_server import redis_for_test, redis_settings_for_test

JOB_ID = "post_call:6f1c3bde-2f6e-4c55-9a43-0f3c1d9b2a10:1"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Settings, RedisJobQueue]]:
    redis_settings = redis_settings_for_test(max_deliveries=1)
    async with redis_for_test(redis_settings) as redis:
        repository = await SqliteCallRepository.open(tmp_path / "store.db")
        on_redis = attach_redis(repository, redis_settings, StoreSettings(), redis=redis)
        service = GrpcService("store", "127.0.0.1:0", SERVICE_NAMES)
        serve_repository(service, repository, on_redis.jobs)
        port = await service.start()
        settings = Settings.model_validate(
            {"services": {"store": f"127.0.0.1:{port}"}, "redis": redis_settings.model_dump()}
        )
        try:
            yield settings, on_redis.jobs
        finally:
            await service.stop(grace=0.2)


async def jobs(settings: Settings, *argv: str) -> int:
    return await run_jobs(settings, build_parser().parse_args(["jobs", *argv]))


async def test_a_dead_job_is_listed_then_replayed_and_replaying_it_again_is_refused(
    store: tuple[Settings, RedisJobQueue], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, queue = store
    await queue.enqueue(JOB_ID, POST_CALL, JOB_ID.split(":")[1])
    job = await queue.claim("brain", [POST_CALL], 30)
    assert job is not None
    await queue.fail(job.job_id, job.lease_token, "the model is down")

    assert await jobs(settings, "dead") == 0
    listed = capsys.readouterr().out
    assert f"{JOB_ID}  dead" in listed and "1 job(s)" in listed
    assert "the model is down" not in listed  # error texts may quote the call

    assert await jobs(settings, "replay", JOB_ID) == 0
    assert f"replayed: {JOB_ID}  pending  tries=0" in capsys.readouterr().out
    assert [j.state for j in await queue.list_jobs()] == [JobState.PENDING]

    assert await jobs(settings, "replay", JOB_ID) == 1
    assert "only dead jobs are replayed" in capsys.readouterr().out
    assert await jobs(settings, "list", "--state", "pending") == 0
    assert f"{JOB_ID}  pending" in capsys.readouterr().out
