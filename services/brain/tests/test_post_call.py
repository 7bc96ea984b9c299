"""The post-call worker: claims jobs from the store, writes each report once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

import pytest

from switchboard.config import PostCallSettings
from switchboard.domain import Call
from switchboard.errors import FailedPrecondition, Unavailable
from switchboard.jobs import POST_CALL, Job, JobState
from switchboard_brain.post_call import PostCallWorker
from switchboard_brain.summary import PostCallReport
from switchboard_brain.summary_llm import RuleSummarizer, Summarizer
from switchboard_testing.brain_fakes import InMemoryStore
from switchboard_testing.clock import VirtualClock

SETTINGS = PostCallSettings(lease_sec=60, poll_sec=2)


@dataclass
class FakeJobs:
    """A job source with the store's lease rules, in memory."""

    queued: list[Job] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    claims: int = 0
    down: bool = False
    lease_lost: bool = False

    def add(self, call_id: str) -> Job:
        job = Job(f"post_call:{call_id}:1", POST_CALL, call_id, JobState.PENDING)
        self.queued.append(job)
        return job

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None:
        self.claims += 1
        if self.down:
            raise Unavailable("store down")
        if not self.queued:
            return None
        job = self.queued.pop(0)
        return replace(job, state=JobState.RUNNING, attempts=job.attempts + 1, lease_token="tok")

    async def complete_job(self, job_id: str, lease_token: str) -> Job:
        if self.lease_lost:
            raise FailedPrecondition("lease lost")
        self.completed.append(job_id)
        return Job(job_id, POST_CALL, "", JobState.DONE)

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job:
        self.failed.append((job_id, error))
        return Job(job_id, POST_CALL, "", JobState.PENDING)


class BrokenSummarizer(Summarizer):
    async def summarize(self, call: Call) -> PostCallReport:
        raise RuntimeError("model exploded")


@pytest.fixture
def store() -> InMemoryStore:
    store = InMemoryStore()
    store.new_call("call-1")
    return store


def worker(
    jobs: FakeJobs,
    store: InMemoryStore,
    time: VirtualClock,
    summarizer: Summarizer | None = None,
    settings: PostCallSettings = SETTINGS,
) -> PostCallWorker:
    return PostCallWorker(
        jobs, store, summarizer or RuleSummarizer(), settings, "brain-test", sleep=time.sleep
    )


async def test_a_claimed_job_writes_the_report_with_its_job_id_then_completes(
    store: InMemoryStore,
) -> None:
    jobs, time = FakeJobs(), VirtualClock()
    job = jobs.add("call-1")

    assert await time.run(worker(jobs, store, time).run_next())

    assert store.calls["call-1"].synthesis is not None
    assert store.synthesis_jobs == [job.job_id]
    assert jobs.completed == [job.job_id]


async def test_a_job_that_runs_again_leaves_the_first_report_standing(
    store: InMemoryStore,
) -> None:
    jobs, time = FakeJobs(), VirtualClock()
    jobs.add("call-1")
    jobs.add("call-1")  # the same job handed out again after an expired lease
    running = worker(jobs, store, time)

    await time.run(running.run_next())
    await time.run(running.run_next())

    assert len(store.synthesis_jobs) == 1


async def test_a_failing_report_hands_the_job_back_as_failed_and_does_not_complete_it(
    store: InMemoryStore,
) -> None:
    jobs, time = FakeJobs(), VirtualClock()
    job = jobs.add("call-1")

    await time.run(worker(jobs, store, time, BrokenSummarizer()).run_next())

    assert jobs.failed == [(job.job_id, "RuntimeError: model exploded")]
    assert jobs.completed == []
    assert store.calls["call-1"].synthesis is None


async def test_a_lost_lease_at_completion_is_not_an_error(store: InMemoryStore) -> None:
    jobs, time = FakeJobs(lease_lost=True), VirtualClock()
    jobs.add("call-1")

    assert await time.run(worker(jobs, store, time).run_next())
    assert jobs.failed == []


async def test_an_idle_worker_asks_again_every_poll_interval_and_survives_a_store_outage(
    store: InMemoryStore,
) -> None:
    jobs, time = FakeJobs(down=True), VirtualClock()
    running = worker(jobs, store, time)
    loop = asyncio.ensure_future(running.run())

    async def until(moment: float) -> None:
        while time.monotonic() < moment:
            await time.sleep(0.5)

    await time.run(until(5))
    assert jobs.claims == 3  # at 0, 2 and 4 s
    jobs.down = False
    jobs.add("call-1")
    await time.run(until(7))
    loop.cancel()

    assert store.calls["call-1"].synthesis is not None


async def test_the_test_only_hold_delays_the_report(store: InMemoryStore) -> None:
    jobs, time = FakeJobs(), VirtualClock()
    jobs.add("call-1")
    held = worker(jobs, store, time, settings=SETTINGS.model_copy(update={"hold_sec": 30}))

    await time.run(held.run_next())

    assert time.monotonic() == 30
    assert store.calls["call-1"].synthesis is not None


async def test_stopping_the_worker_ends_its_loop(store: InMemoryStore) -> None:
    running = worker(FakeJobs(), store, VirtualClock())
    running.start()
    await asyncio.sleep(0)
    await running.stop()
    await running.stop()  # idempotent


async def test_a_stopping_worker_hands_its_job_back_instead_of_waiting_out_the_lease(
    store: InMemoryStore,
) -> None:
    jobs, time = FakeJobs(), VirtualClock()
    job = jobs.add("call-1")
    held = worker(jobs, store, time, settings=SETTINGS.model_copy(update={"hold_sec": 30}))
    held.start()
    for _ in range(10):
        await asyncio.sleep(0)  # the worker claims the job and holds it

    await held.stop()

    assert jobs.failed == [(job.job_id, "worker stopped")]
    assert store.calls["call-1"].synthesis is None
