"""Post-call jobs: queued with the call's ending (an outbox), handed out under leases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from switchboard import domain
from switchboard.call_events import CallEvent
from switchboard.errors import FailedPrecondition, InvalidArgument, NotFound
from switchboard.jobs import POST_CALL, JobState
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
KINDS = [POST_CALL]
LEASE_SEC = 30.0
REPORT = (
    domain.Synthesis(short="the claim", long="All done.", satisfaction="high"),
    domain.NextAction(action="case_closed"),
)


async def ended_call(repo: CallRepository, make_request: MakeRequest) -> domain.Call:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    return await repo.set_call_state(call.call_id, domain.CallState.ENDED, reason="goodbye")


def syntheses(events: list[CallEvent]) -> list[domain.Synthesis]:
    return [e.payload for e in events if isinstance(e.payload, domain.Synthesis)]


async def test_ending_a_connected_call_queues_one_post_call_job_with_it(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await ended_call(repo, make_request)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED)  # the same state again

    [job] = await repo.jobs.list_jobs()
    assert (job.job_id, job.kind, job.call_id, job.state, job.attempts) == (
        f"post_call:{call.call_id}:1",
        POST_CALL,
        call.call_id,
        JobState.PENDING,
        0,
    )


async def test_a_job_keeps_the_trace_of_the_call_ending_that_queued_it(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    ending = SpanContext(
        0x5B8AA5A2D2C872E8321CF37308D69DF2, 0x051581BF3CB55C13, False, TraceFlags(1)
    )
    with trace.use_span(NonRecordingSpan(ending)):
        await ended_call(repo, make_request)

    [job] = await repo.jobs.list_jobs()
    assert job.traceparent.startswith("00-5b8aa5a2d2c872e8321cf37308d69df2-")
    [claimed] = [await repo.jobs.claim("w1", KINDS, LEASE_SEC)]
    assert claimed is not None and claimed.traceparent == job.traceparent


async def test_a_call_that_never_connected_queues_no_job(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.RINGING)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED, reason="no_answer")
    assert await repo.jobs.list_jobs() == []


async def test_a_resumed_call_that_ends_again_queues_a_second_job(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await ended_call(repo, make_request)
    await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED)

    ids = [job.job_id for job in await repo.jobs.list_jobs()]
    assert ids == [f"post_call:{call.call_id}:1", f"post_call:{call.call_id}:2"]


async def test_a_claimed_job_is_not_handed_out_again_while_its_lease_holds(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    await ended_call(repo, make_request)
    job = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
    assert job is not None
    assert (job.state, job.attempts, job.leased_by) == (JobState.RUNNING, 1, "brain-a")
    assert job.lease_token

    clock.advance(LEASE_SEC - 1)
    assert await repo.jobs.claim("brain-b", KINDS, LEASE_SEC) is None


async def test_a_job_whose_worker_died_is_claimed_again_after_the_lease(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    await ended_call(repo, make_request)
    first = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
    assert first is not None

    clock.advance(LEASE_SEC)
    second = await repo.jobs.claim("brain-b", KINDS, LEASE_SEC)

    assert second is not None and second.job_id == first.job_id
    assert (second.attempts, second.leased_by) == (2, "brain-b")
    assert second.lease_token != first.lease_token
    with pytest.raises(FailedPrecondition):
        await repo.jobs.complete(first.job_id, first.lease_token)  # the dead worker's lease
    done = await repo.jobs.complete(second.job_id, second.lease_token)
    assert done.state is JobState.DONE


async def test_a_completed_job_is_never_handed_out_again_and_completing_twice_is_harmless(
    repo: CallRepository, make_request: MakeRequest, clock: VirtualClock
) -> None:
    await ended_call(repo, make_request)
    job = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
    assert job is not None
    await repo.jobs.complete(job.job_id, job.lease_token)
    again = await repo.jobs.complete(job.job_id, job.lease_token)  # the first reply was lost

    clock.advance(10 * LEASE_SEC)
    assert again.state is JobState.DONE
    assert await repo.jobs.claim("brain-b", KINDS, LEASE_SEC) is None


async def test_a_failed_job_waits_out_a_doubling_back_off_then_goes_dead(
    store: StoreUnderTest, make_request: MakeRequest, clock: VirtualClock
) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_sec=10, max_backoff_sec=600)
    repo = await store.open(clock, policy)
    try:
        await ended_call(repo, make_request)
        waits = []
        for attempt in (1, 2):
            job = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
            assert job is not None and job.attempts == attempt
            failed = await repo.jobs.fail(job.job_id, job.lease_token, "model down")
            assert failed.state is JobState.PENDING and failed.last_error == "model down"
            assert failed.available_at is not None
            waits.append((failed.available_at - clock.now()).total_seconds())
            clock.advance(waits[-1] - 1)
            assert await repo.jobs.claim("brain-a", KINDS, LEASE_SEC) is None
            clock.advance(1)
        last = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
        assert last is not None
        dead = await repo.jobs.fail(last.job_id, last.lease_token, "model down")

        assert waits == [10, 20]
        assert dead.state is JobState.DEAD
        assert [j.job_id for j in await repo.jobs.list_jobs(JobState.DEAD)] == [dead.job_id]
        clock.advance(3600)
        assert await repo.jobs.claim("brain-a", KINDS, LEASE_SEC) is None
    finally:
        await repo.close()


async def test_a_lease_that_expires_on_the_last_try_makes_the_job_dead(
    store: StoreUnderTest, make_request: MakeRequest, clock: VirtualClock
) -> None:
    repo = await store.open(clock, RetryPolicy(max_attempts=2))
    try:
        await ended_call(repo, make_request)
        for _ in range(2):
            assert await repo.jobs.claim("brain-a", KINDS, LEASE_SEC) is not None
            clock.advance(LEASE_SEC)

        assert await repo.jobs.claim("brain-a", KINDS, LEASE_SEC) is None
        [dead] = await repo.jobs.list_jobs(JobState.DEAD)
        assert dead.attempts == 2 and "lease expired" in dead.last_error
    finally:
        await repo.close()


async def test_an_operator_replays_a_dead_job_which_then_runs_once_more(
    store: StoreUnderTest, make_request: MakeRequest, clock: VirtualClock
) -> None:
    repo = await store.open(clock, RetryPolicy(max_attempts=1))
    try:
        await ended_call(repo, make_request)
        job = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
        assert job is not None
        with pytest.raises(FailedPrecondition):
            await repo.jobs.replay(job.job_id)  # running, not dead
        await repo.jobs.fail(job.job_id, job.lease_token, "model down")

        replayed = await repo.jobs.replay(job.job_id)
        assert (replayed.state, replayed.attempts) == (JobState.PENDING, 0)
        again = await repo.jobs.claim("brain-b", KINDS, LEASE_SEC)
        assert again is not None and (again.job_id, again.attempts) == (job.job_id, 1)
        assert (await repo.jobs.complete(again.job_id, again.lease_token)).state is JobState.DONE
        with pytest.raises(FailedPrecondition):
            await repo.jobs.replay(job.job_id)  # done
        with pytest.raises(NotFound):
            await repo.jobs.replay("post_call:no-such-call:1")
    finally:
        await repo.close()


async def test_a_queued_job_survives_a_restart_of_the_store(
    store: StoreUnderTest, make_request: MakeRequest, clock: VirtualClock
) -> None:
    first = await store.open(clock)
    call = await ended_call(first, make_request)
    await first.close()

    second = await store.open(clock)
    try:
        job = await second.jobs.claim("brain-a", KINDS, LEASE_SEC)
        assert job is not None and job.call_id == call.call_id
    finally:
        await second.close()


async def test_a_job_that_runs_twice_stores_its_synthesis_once(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await ended_call(repo, make_request)
    job_id = f"post_call:{call.call_id}:1"
    synthesis, next_action = REPORT
    await repo.save_synthesis(call.call_id, synthesis, next_action, "Thanks.", job_id=job_id)
    later = synthesis.model_copy(update={"short": "a second run"})
    stored = await repo.save_synthesis(call.call_id, later, next_action, "Again.", job_id=job_id)

    assert stored.synthesis == synthesis and stored.sms_summary == "Thanks."
    assert syntheses(await repo.events_after(call.call_id, 0)) == [synthesis]


async def test_claims_and_leases_are_checked(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    with pytest.raises(InvalidArgument):
        await repo.jobs.claim("", KINDS, LEASE_SEC)
    with pytest.raises(InvalidArgument):
        await repo.jobs.claim("brain-a", [], LEASE_SEC)
    with pytest.raises(InvalidArgument):
        await repo.jobs.claim("brain-a", KINDS, 0)
    with pytest.raises(NotFound):
        await repo.jobs.complete("post_call:nope:1", "token")
    await ended_call(repo, make_request)
    job = await repo.jobs.claim("brain-a", KINDS, LEASE_SEC)
    assert job is not None
    with pytest.raises(FailedPrecondition):
        await repo.jobs.fail(job.job_id, "not-the-token", "x")
