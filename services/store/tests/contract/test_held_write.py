"""One call's write held up (its row locked by another transaction, as a slow write
holds it): another call's writes go on meanwhile where the backend allows it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from switchboard import domain
from switchboard_store import postgres_db
from switchboard_store.repository import CallRepository

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
StoreUnderTest = Any  # the `store` fixture: opens repositories on one test database
WAIT_SEC = 10.0  # a guard against a hang, never reached when the write is not held
TICKS_SEC = 0.2  # time given to the held write to (wrongly) get through


async def test_a_held_write_of_one_call_does_not_hold_another_calls_claim_update(
    store: StoreUnderTest, repo: CallRepository, make_request: MakeRequest
) -> None:
    if store.backend == "sqlite":
        pytest.skip("SQLite has one writer: a held write holds every write (test_sqlite_writer)")
    if store.backend == "cosmos":
        pytest.skip("Cosmos DB holds no lock: a change to one call never waits on another's")
    held_call = (await repo.create_call(make_request(), OUT)).call_id
    other_call = (await repo.create_call(make_request("+14155550101"), OUT)).call_id
    blocker = await postgres_db.connect(store.options)
    transaction = blocker.transaction()
    await transaction.start()
    try:
        await blocker.execute("SELECT 1 FROM calls WHERE call_id = $1 FOR UPDATE", held_call)
        held = asyncio.create_task(repo.update_claim(held_call, [("description", "held")]))

        other = await asyncio.wait_for(
            repo.update_claim(other_call, [("description", "free")]), WAIT_SEC
        )

        assert other.claim == {"description": "free"}
        await asyncio.sleep(TICKS_SEC)
        assert not held.done()  # that call's write waits for its row, alone
    finally:
        await transaction.rollback()
        await blocker.close()
    assert (await asyncio.wait_for(held, WAIT_SEC)).claim == {"description": "held"}
