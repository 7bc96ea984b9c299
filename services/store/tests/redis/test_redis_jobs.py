"""The job queue on real Redis streams: take-over after the visibility timeout, dead
letters and their replay, one job per job id however often it is relayed."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from switchboard.config import RedisSettings
from switchboard.errors import FailedPrecondition, InvalidArgument, NotFound
from switchboard.jobs import POST_CALL, JobState
from switchboard.redis_link import RedisNames
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.redis_jobs import RedisJobQueue
from switchboard_testing.clock import VirtualClock

KINDS = [POST_CALL]
CALL_ID = "6f1c3bde-2f6e-4c55-9a43-0f3c1d9b2a10"
JOB_ID = f"post_call:{CALL_ID}:1"
LEASE_SEC = 0.1
# Past the fixture's 0.2 s visibility timeout, which Redis measures in real time.
PAST_VISIBILITY_SEC = 0.3


@pytest.fixture
def queue(
    redis: Redis, names: RedisNames, redis_settings: RedisSettings, clock: VirtualClock
) -> RedisJobQueue:
    policy = RetryPolicy(max_attempts=redis_settings.max_deliveries, backoff_sec=10)
    return RedisJobQueue(redis, names, redis_settings.visibility_timeout_sec, policy, clock=clock)


async def test_a_job_relayed_twice_is_queued_and_done_once(queue: RedisJobQueue) -> None:
    assert await queue.enqueue(JOB_ID, POST_CALL, CALL_ID, "00-trace-01")
    assert not await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)  # the relay's second try

    job = await queue.claim("w1", KINDS, 30)
    assert job is not None
    assert (job.job_id, job.call_id, job.state, job.attempts, job.traceparent) == (
        JOB_ID,
        CALL_ID,
        JobState.RUNNING,
        1,
        "00-trace-01",
    )
    assert await queue.claim("w2", KINDS, 30) is None  # no second copy to hand out

    done = await queue.complete(job.job_id, job.lease_token)
    assert done.state is JobState.DONE
    assert (await queue.complete(job.job_id, job.lease_token)).state is JobState.DONE  # lost reply
    assert not await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)  # a done job is not queued again
    assert await queue.claim("w2", KINDS, 30) is None
    assert [j.state for j in await queue.list_jobs()] == [JobState.DONE]


async def test_a_job_whose_worker_died_is_claimed_by_another_after_the_visibility_timeout(
    queue: RedisJobQueue, clock: VirtualClock
) -> None:
    await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)
    dying = await queue.claim("dies", KINDS, LEASE_SEC)
    assert dying is not None

    clock.advance(LEASE_SEC * 2)  # its lease is over, but Redis has not seen it idle long
    assert await queue.claim("rescuer", KINDS, 30) is None
    await asyncio.sleep(PAST_VISIBILITY_SEC)
    rescued = await queue.claim("rescuer", KINDS, 30)

    assert rescued is not None
    assert (rescued.job_id, rescued.leased_by, rescued.attempts) == (JOB_ID, "rescuer", 2)
    with pytest.raises(FailedPrecondition):
        await queue.complete(dying.job_id, dying.lease_token)  # the dead worker came back
    assert (await queue.complete(rescued.job_id, rescued.lease_token)).state is JobState.DONE


async def test_an_entry_idle_but_still_leased_is_not_taken_from_its_slow_worker(
    queue: RedisJobQueue,
) -> None:
    await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)
    slow = await queue.claim("slow", KINDS, 600)
    assert slow is not None
    await asyncio.sleep(PAST_VISIBILITY_SEC)

    assert await queue.claim("other", KINDS, 30) is None
    assert (await queue.complete(slow.job_id, slow.lease_token)).state is JobState.DONE


async def test_a_failed_job_waits_out_its_back_off_then_runs_again(
    queue: RedisJobQueue, clock: VirtualClock
) -> None:
    await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)
    first = await queue.claim("w1", KINDS, 30)
    assert first is not None
    failed = await queue.fail(first.job_id, first.lease_token, "model timed out")
    assert (failed.state, failed.last_error) == (JobState.PENDING, "model timed out")

    assert await queue.claim("w1", KINDS, 30) is None  # backing off for 10 s
    clock.advance(10)
    again = await queue.claim("w2", KINDS, 30)
    assert again is not None and again.attempts == 2
    with pytest.raises(FailedPrecondition):
        await queue.fail(first.job_id, first.lease_token, "stale")


async def test_n_failures_dead_letter_the_job_which_is_listed_replayed_and_done_once(
    queue: RedisJobQueue, clock: VirtualClock, redis: Redis, names: RedisNames
) -> None:
    await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)
    for attempt in range(1, 4):
        job = await queue.claim(f"w{attempt}", KINDS, 30)
        assert job is not None and job.attempts == attempt
        last = await queue.fail(job.job_id, job.lease_token, f"boom {attempt}")
        clock.advance(3600)
    assert (last.state, last.last_error) == (JobState.DEAD, "boom 3")
    assert await queue.claim("w4", KINDS, 30) is None

    [dead] = await queue.list_jobs(JobState.DEAD)
    assert (dead.job_id, dead.attempts) == (JOB_ID, 3)
    assert await redis.xlen(names.dead_letters) == 1

    replayed = await queue.replay(JOB_ID)
    assert (replayed.state, replayed.attempts) == (JobState.PENDING, 0)
    assert await queue.list_jobs(JobState.DEAD) == []
    assert await redis.xlen(names.dead_letters) == 0
    with pytest.raises(FailedPrecondition):
        await queue.replay(JOB_ID)  # not dead any more

    job = await queue.claim("w5", KINDS, 30)
    assert job is not None and job.attempts == 1
    await queue.complete(job.job_id, job.lease_token)
    assert await queue.claim("w6", KINDS, 30) is None
    assert [(j.job_id, j.state) for j in await queue.list_jobs()] == [(JOB_ID, JobState.DONE)]


async def test_a_worker_dying_on_the_last_delivery_sends_the_job_to_the_dead_letters(
    queue: RedisJobQueue, clock: VirtualClock
) -> None:
    await queue.enqueue(JOB_ID, POST_CALL, CALL_ID)
    for attempt in range(1, 4):
        job = await queue.claim(f"w{attempt}", KINDS, LEASE_SEC)
        assert job is not None and job.attempts == attempt
        clock.advance(LEASE_SEC * 2)
        await asyncio.sleep(PAST_VISIBILITY_SEC)  # and never acknowledged

    assert await queue.claim("w4", KINDS, 30) is None
    [dead] = await queue.list_jobs(JobState.DEAD)
    assert dead.job_id == JOB_ID


async def test_bad_claims_and_unknown_jobs_are_refused(queue: RedisJobQueue) -> None:
    with pytest.raises(InvalidArgument):
        await queue.claim("", KINDS, 30)
    with pytest.raises(InvalidArgument):
        await queue.claim("w", [], 30)
    with pytest.raises(NotFound):
        await queue.complete("post_call:nope:1", "token")
    with pytest.raises(NotFound):
        await queue.replay("post_call:nope:1")
