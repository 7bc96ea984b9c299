"""Two repositories on one database, as two store replicas (or a restart) would be."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from switchboard import domain
from switchboard.jobs import POST_CALL, JobState
from switchboard_testing.clock import VirtualClock

StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database
MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
HUMAN = domain.Persona.HUMAN


async def test_concurrent_writers_to_one_call_through_two_replicas_lose_nothing(
    store: StoreUnderTest, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first, second = await store.open(clock), await store.open(clock)
    call = await first.create_call(make_request(), OUT)

    def append(repo: Any, i: int) -> Any:
        return repo.append_messages(call.call_id, [domain.Message(persona=HUMAN, content=str(i))])

    await asyncio.gather(
        *(append(first if i % 2 else second, i) for i in range(30)),
        first.update_claim(call.call_id, [("email", "a@example.com")]),
        second.update_claim(call.call_id, [("description", "a broken door")]),
    )

    stored = await second.get_call(call.call_id)
    assert [m.seq for m in stored.messages] == list(range(1, 31))
    assert sorted(m.content for m in stored.messages) == sorted(str(i) for i in range(30))
    assert stored.claim == {"description": "a broken door", "email": "a@example.com"}
    events = await first.events_after(call.call_id, 0)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_workers_claiming_through_two_replicas_never_share_a_job(
    store: StoreUnderTest, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first, second = await store.open(clock), await store.open(clock)
    for _ in range(6):
        call = await first.create_call(make_request(), OUT)
        await first.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
        await first.set_call_state(call.call_id, domain.CallState.ENDED)

    claims = await asyncio.gather(
        *((first if i % 2 else second).jobs.claim(f"w{i}", [POST_CALL], 30) for i in range(10))
    )

    held = [job.job_id for job in claims if job is not None]
    assert len(held) == 6 and len(set(held)) == 6
    running = await second.jobs.list_jobs(JobState.RUNNING)
    assert sorted(j.job_id for j in running) == sorted(held)
