"""Schema migrations on every backend: from an empty database, and from the previous version."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from switchboard import domain
from switchboard.jobs import JobState
from switchboard_testing.clock import VirtualClock

StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database
MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
# A call as the previous release stored it (conftest: insert_previous_version_call).
OLD_CALL_ID = "6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90"
OLD_REQUEST = (
    '{"agent_phone_number":"","bot_company":"Contoso","bot_name":"Amelie","claim":[],'
    '"lang":"en-US","phone_number":"+14155550100","prosody_rate":1.0,"task":"",'
    '"timezone":"","voice":""}'
)


async def test_an_empty_database_gets_every_migration_once(store: StoreUnderTest) -> None:
    applied = await store.migrate()

    assert applied == list(range(1, store.latest_version() + 1))
    assert await store.versions() == applied
    assert await store.migrate() == []


async def test_migrators_racing_on_one_database_apply_each_version_once(
    store: StoreUnderTest,
) -> None:
    if store.backend == "sqlite":
        pytest.skip("one file, one writer: SQLite has no concurrent migrators to race")
    results = await asyncio.gather(*(store.migrate() for _ in range(4)))

    applied = sorted(v for result in results for v in result)
    assert applied == list(range(1, store.latest_version() + 1))
    assert await store.versions() == applied


async def test_data_stored_by_the_previous_version_survives_the_upgrade(
    store: StoreUnderTest, clock: VirtualClock, make_request: MakeRequest
) -> None:
    previous = store.latest_version() - 1
    assert await store.migrate(upto=previous) == list(range(1, previous + 1))
    await store.insert_previous_version_call(OLD_CALL_ID, OLD_REQUEST)

    repo = await store.open(clock)
    assert await store.versions() == list(range(1, store.latest_version() + 1))
    old = await repo.get_call(OLD_CALL_ID)
    assert (old.state, old.initiate.bot_company, old.attempt) == (
        domain.CallState.IN_PROGRESS,
        "Contoso",
        1,
    )
    # The new version's feature works on the old row: its ending queues a post-call job.
    await repo.set_call_state(OLD_CALL_ID, domain.CallState.ENDED)
    [job] = await repo.jobs.list_jobs()
    assert (job.call_id, job.state) == (OLD_CALL_ID, JobState.PENDING)
    new = await repo.create_call(make_request(), OUT)
    found = await repo.find_open_call("+14155550100", 3)
    assert found is not None and found.call_id == new.call_id
