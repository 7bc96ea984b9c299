"""The Cosmos DB backend beyond the contract suite: what it asks of the service.

The real ``azure-cosmos`` SDK talks to :class:`~switchboard_testing.fake_cosmos.FakeCosmos`
over HTTPS; these tests check the requests it makes (hot lookups stay in one partition),
the key, the ETag retries and the outbox relay after a crash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from azure.cosmos import exceptions

from switchboard import domain
from switchboard.call_leases import LINE_DROPPED, CallLease
from switchboard.config import StoreSettings
from switchboard.jobs import POST_CALL, JobState
from switchboard.providers import create
from switchboard_store import cosmos_db, migrate
from switchboard_store.backends import BACKENDS
from switchboard_store.cosmos_backend import CosmosBackend
from switchboard_store.cosmos_db import CosmosOptions
from switchboard_store.cosmos_repository import CosmosCallRepository
from switchboard_testing.clock import VirtualClock
from switchboard_testing.fake_cosmos import FakeCosmos

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
NUMBER = "+14155550100"
LEASE = CallLease("dialer-a", 10.0)


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeCosmos]:
    account = FakeCosmos(tmp_path)
    await account.start()
    try:
        yield account
    finally:
        await account.stop()


@pytest.fixture
def options(fake: FakeCosmos) -> CosmosOptions:
    return CosmosOptions(fake.endpoint, fake.key, "sb")


@pytest.fixture
async def cosmos(
    options: CosmosOptions, clock: VirtualClock
) -> AsyncIterator[CosmosCallRepository]:
    repository = await CosmosCallRepository.open(options, clock, migrate=True)
    try:
        yield repository
    finally:
        await repository.close()


def partitions_read(fake: FakeCosmos, since: int) -> set[tuple[str, str]]:
    """``(container path, partition key)`` of every request after ``since``."""
    return {(path.split("/docs")[0], key) for _, path, key in fake.requests[since:]}


async def test_a_wrong_account_key_is_refused_by_the_service(options: CosmosOptions) -> None:
    wrong = CosmosOptions(options.endpoint, "d3Jvbmcga2V5", options.database)
    with pytest.raises(exceptions.CosmosHttpResponseError) as refused:
        await CosmosCallRepository.open(wrong, migrate=True)
    assert refused.value.status_code == 401


async def test_a_store_refuses_a_database_whose_layout_is_behind(options: CosmosOptions) -> None:
    await cosmos_db.migrate(options, upto=1)
    latest = cosmos_db.latest_version()
    with pytest.raises(RuntimeError, match=f"layout version 1, this store needs {latest}"):
        await CosmosCallRepository.open(options)
    assert await cosmos_db.migrate(options) == list(range(2, latest + 1))


async def test_a_call_by_id_and_a_numbers_open_call_each_read_one_partition(
    cosmos: CosmosCallRepository, fake: FakeCosmos, make_request: MakeRequest
) -> None:
    call = await cosmos.create_call(make_request(), OUT)
    await cosmos.create_call(make_request(phone_number="+14155550101"), OUT)

    before = len(fake.requests)
    await cosmos.get_call(call.call_id)
    assert partitions_read(fake, before) == {("/dbs/sb/colls/calls", f'["{call.call_id}"]')}

    before = len(fake.requests)
    found = await cosmos.find_open_call(NUMBER, 3)
    assert found is not None and found.call_id == call.call_id
    assert partitions_read(fake, before) == {
        ("/dbs/sb/colls/calls_by_number", f'["{NUMBER}"]'),
        ("/dbs/sb/colls/calls", f'["{call.call_id}"]'),
    }


async def test_the_callback_lookup_skips_failed_calls_newest_first(
    cosmos: CosmosCallRepository, clock: VirtualClock, make_request: MakeRequest
) -> None:
    kept = await cosmos.create_call(make_request(), OUT)
    for _ in range(12):  # more than one page of the number's index
        clock.advance(1)
        failed = await cosmos.create_call(make_request(), OUT)
        await cosmos.set_call_state(failed.call_id, domain.CallState.FAILED)

    found = await cosmos.find_open_call(NUMBER, 3)
    assert found is not None and found.call_id == kept.call_id


async def test_a_claim_update_that_lost_a_race_is_retried_on_the_newer_document(
    options: CosmosOptions, fake: FakeCosmos, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first = await CosmosCallRepository.open(options, clock, migrate=True)
    second = await CosmosCallRepository.open(options, clock)
    try:
        call = await first.create_call(make_request(), OUT)
        real_read = first._containers.calls.read_item
        raced = False

        async def read_then_lose_the_race(item: str, partition_key: str) -> dict[str, object]:
            nonlocal raced
            doc: dict[str, object] = await real_read(item, partition_key=partition_key)
            if not raced:  # another replica commits between this read and the batch
                raced = True
                await second.update_claim(call.call_id, [("email", "a@example.com")])
            return doc

        first._containers.calls.read_item = read_then_lose_the_race  # type: ignore[method-assign]
        result = await first.update_claim(call.call_id, [("description", "a dent")])

        assert result.claim == {"description": "a dent", "email": "a@example.com"}
        assert fake.precondition_failures == 1  # the first batch lost; its retry won
    finally:
        await first.close()
        await second.close()


async def test_a_withheld_callers_call_is_stored_without_a_number_index_entry(
    cosmos: CosmosCallRepository, fake: FakeCosmos, make_request: MakeRequest
) -> None:
    withheld = await cosmos.create_call(make_request(phone_number=""), domain.CallDirection.INBOUND)

    assert fake.documents("sb", "calls_by_number") == []
    listed, total = await cosmos.list_calls()
    assert ([c.call_id for c in listed], total) == ([withheld.call_id], 1)


async def test_the_orphan_sweep_is_one_cross_partition_query_and_each_ending_one_partition(
    cosmos: CosmosCallRepository, fake: FakeCosmos, clock: VirtualClock, make_request: MakeRequest
) -> None:
    call = await cosmos.create_call(make_request(), OUT)
    await cosmos.set_call_state(call.call_id, domain.CallState.IN_PROGRESS, lease=LEASE)
    clock.advance(LEASE.lease_sec + 1)

    before = len(fake.requests)
    assert await cosmos.end_orphaned_calls() == [call.call_id]

    queries = [(v, p, k) for v, p, k in fake.requests[before:] if v == "POST" and k == "*"]
    assert [p for _, p, _ in queries] == ["/dbs/sb/colls/calls/docs"]
    # The ending itself: the call's partition, and its post-call job relayed to ``jobs``.
    assert {(p, k) for p, k in partitions_read(fake, before) if k != "*"} == {
        ("/dbs/sb/colls/calls", f'["{call.call_id}"]'),
        ("/dbs/sb/colls/jobs", f'["{POST_CALL}:{call.call_id}:1"]'),
    }
    ended = await cosmos.get_call(call.call_id)
    assert (ended.state, ended.state_reason) == (domain.CallState.ENDED, LINE_DROPPED)


async def test_a_renewal_that_lost_a_race_to_the_ending_does_not_lease_the_ended_call(
    options: CosmosOptions, fake: FakeCosmos, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first = await CosmosCallRepository.open(options, clock, migrate=True)
    second = await CosmosCallRepository.open(options, clock)
    try:
        call = await first.create_call(make_request(), OUT)
        await first.set_call_state(call.call_id, domain.CallState.IN_PROGRESS, lease=LEASE)
        real_read = first._containers.calls.read_item
        raced = False

        async def read_then_lose_the_race(item: str, partition_key: str) -> dict[str, object]:
            nonlocal raced
            doc: dict[str, object] = await real_read(item, partition_key=partition_key)
            if not raced:  # the call ends on another replica between the read and the write
                raced = True
                await second.set_call_state(call.call_id, domain.CallState.ENDED, "goodbye")
            return doc

        first._containers.calls.read_item = read_then_lose_the_race  # type: ignore[method-assign]
        renewed = await first.renew_call_leases(LEASE.owner, [call.call_id], LEASE.lease_sec)

        assert renewed == []
        assert fake.precondition_failures == 1  # the renewal's write lost; its re-read saw the end
        doc = await second._containers.calls.read_item(call.call_id, partition_key=call.call_id)
        assert (doc["state"], doc["lease_owner"], doc["lease_expires_at"]) == ("ended", "", None)
    finally:
        await first.close()
        await second.close()


async def test_an_idempotency_key_is_one_point_read_partition_whatever_its_characters(
    cosmos: CosmosCallRepository, fake: FakeCosmos
) -> None:
    key = "order/42?#\\x"  # characters a Cosmos DB item id may not hold
    before = len(fake.requests)
    first = await cosmos.control.claim_idempotency_key("client-a", key, "h")
    again = await cosmos.control.claim_idempotency_key("client-a", key, "h")

    assert (first.fresh, again.fresh, again.key) == (True, False, key)
    partitions = partitions_read(fake, before)
    assert {p for p, _ in partitions} == {"/dbs/sb/colls/idempotency_keys"}
    assert len(partitions) == 1  # client and key name one partition


async def test_a_job_left_in_an_outbox_by_a_crash_is_relayed_when_the_store_opens(
    options: CosmosOptions, clock: VirtualClock, make_request: MakeRequest
) -> None:
    first = await CosmosCallRepository.open(options, clock, migrate=True)

    async def crash(call_id: str, outbox: list[dict[str, object]]) -> None:
        raise Crash  # the process dies right after the commit

    first._relay_outbox = crash  # type: ignore[method-assign]
    call = await first.create_call(make_request(), OUT)
    await first.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    with pytest.raises(Crash):
        await first.set_call_state(call.call_id, domain.CallState.ENDED)
    assert await first.jobs.list_jobs() == []
    await first.close()

    second = await CosmosCallRepository.open(options, clock)
    try:
        [job] = await second.jobs.list_jobs()
        assert (job.call_id, job.kind, job.state) == (call.call_id, POST_CALL, JobState.PENDING)
        doc = await second._containers.calls.read_item(call.call_id, partition_key=call.call_id)
        assert doc["outbox"] == [] and doc["outbox_pending"] is False
    finally:
        await second.close()


async def test_a_large_append_commits_in_several_batches_in_order(
    cosmos: CosmosCallRepository, make_request: MakeRequest
) -> None:
    call = await cosmos.create_call(make_request(), OUT)
    lines = [domain.Message(persona=domain.Persona.HUMAN, content=str(i)) for i in range(120)]
    await cosmos.append_messages(call.call_id, lines)

    stored = await cosmos.get_call(call.call_id)
    assert [m.content for m in stored.messages] == [str(i) for i in range(120)]
    events = await cosmos.events_after(call.call_id, 0)
    assert [e.seq for e in events] == list(range(1, 122))


def test_the_cosmos_backend_takes_its_settings_and_needs_a_key() -> None:
    settings = StoreSettings.model_validate(
        {"backend": "cosmos", "cosmos": {"endpoint": "https://a.documents.azure.com:443/"}}
    )
    with pytest.raises(ValueError, match="SWITCHBOARD__STORE__COSMOS__KEY"):
        create(BACKENDS, "cosmos", settings)
    keyed = settings.model_copy(update={"cosmos": settings.cosmos.model_copy(update={"key": "k"})})
    backend = create(BACKENDS, "cosmos", keyed)
    assert isinstance(backend, CosmosBackend)
    assert backend.options.database == "switchboard"


async def test_switchboard_migrate_creates_the_database_and_applies_every_layout(
    fake: FakeCosmos,
) -> None:
    settings = StoreSettings.model_validate(
        {"backend": "cosmos", "cosmos": {"endpoint": fake.endpoint, "key": fake.key}}
    )
    assert await migrate.migrate(settings) == [1, 2, 3]
    assert await migrate.migrate(settings) == []
    containers = fake.databases["switchboard"].containers
    assert set(containers) == {
        "calls", "calls_by_number", "jobs", "documents", "meta", "idempotency_keys",
    }  # fmt: skip
    # Expired idempotency keys are the service's to purge: items live by their own ttl.
    assert containers["idempotency_keys"].properties["defaultTtl"] == -1
    wrong = settings.model_copy(
        update={"cosmos": settings.cosmos.model_copy(update={"key": "d3Jvbmcga2V5"})}
    )
    with pytest.raises(migrate.MigrationError, match="401"):
        await migrate.migrate(wrong)
