"""Whole simulated calls with ``redis.enabled``: five processes on one Redis.

The call's post-call job goes from the store's outbox onto its stream, the brain claims
and acknowledges it through the store, and a brain killed mid-report has its job taken
over by the next one once the visibility timeout passed: one report, two deliveries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

import tests.cluster.test_post_call_jobs as post_call
from switchboard import domain
from switchboard.jobs import JobState
from switchboard.redis_link import RedisNames, open_redis
from switchboard_cli.launcher import Cluster
from switchboard_testing.redis_server import delete_prefix, redis_settings_for_test
from tests.cluster.harness import FIXED_NOW, started_cluster, syntheses_of

SETTINGS = redis_settings_for_test()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("redis-calls")
    env = {
        "SWITCHBOARD_CONFIG": str(root / "switchboard.yaml"),
        "SWITCHBOARD__BRAIN__FIXED_NOW": FIXED_NOW,
        "SWITCHBOARD__DIALER__RING_TIMEOUT_SEC": "2",
        "SWITCHBOARD__BRAIN__POST_CALL__LEASE_SEC": "2",
        "SWITCHBOARD__BRAIN__POST_CALL__POLL_SEC": "0.2",
        post_call.HOLD_ENV: "0",
        "SWITCHBOARD__REDIS__ENABLED": "true",
        "SWITCHBOARD__REDIS__URL": SETTINGS.url,
        "SWITCHBOARD__REDIS__KEY_PREFIX": SETTINGS.key_prefix,
        "SWITCHBOARD__REDIS__VISIBILITY_TIMEOUT_SEC": "3",
        "SWITCHBOARD__REDIS__RELAY_POLL_SEC": "0.2",
    }
    with started_cluster(root, env) as cluster:
        yield cluster
        asyncio.run(_clean())


async def _clean() -> None:
    redis = open_redis(SETTINGS)
    try:
        await delete_prefix(redis, SETTINGS.key_prefix)
    finally:
        await redis.aclose()


async def _job_record(job_id: str) -> dict[str, str]:
    redis = open_redis(SETTINGS)
    names = RedisNames.from_settings(SETTINGS)
    try:
        record: dict[str, str] = await redis.hgetall(names.job(job_id))
        return record
    finally:
        await redis.aclose()


def test_a_call_s_post_call_job_runs_from_its_redis_stream(cluster: Cluster) -> None:
    call = post_call.CallInBackground(cluster)
    ended = post_call.call_of(cluster, call.number, domain.CallState.ENDED)
    result = call.result()

    done = post_call.post_call_job(cluster, ended.call_id, JobState.DONE)
    assert result.call["synthesis"]["short"]
    assert done.attempts == 1
    record = asyncio.run(_job_record(done.job_id))
    assert (record["state"], record["call_id"]) == ("done", ended.call_id)
    assert len(syntheses_of(cluster, ended.call_id)) == 1


def test_a_brain_killed_mid_report_has_its_job_taken_over_after_the_visibility_timeout(
    cluster: Cluster,
) -> None:
    post_call.restart_brain(cluster, hold_sec=600)  # this brain never finishes a report
    call = post_call.CallInBackground(cluster)
    ended = post_call.call_of(cluster, call.number, domain.CallState.ENDED)
    held = post_call.post_call_job(cluster, ended.call_id, JobState.RUNNING)

    post_call.restart_brain(cluster, hold_sec=0)  # SIGKILL mid-report, then one that finishes

    result = call.result()
    done = post_call.post_call_job(cluster, ended.call_id, JobState.DONE)
    assert result.call["synthesis"]["short"]
    assert (done.job_id, done.attempts) == (held.job_id, 2)
    assert len(syntheses_of(cluster, ended.call_id)) == 1
