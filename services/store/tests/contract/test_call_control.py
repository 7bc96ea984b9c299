"""Call control records: idempotency keys of POST /call, call webhooks and their jobs,
and listing calls by state. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from switchboard import domain
from switchboard.call_control import IDEMPOTENCY_TTL_SEC, CallWebhook
from switchboard.errors import InvalidArgument, NotFound
from switchboard.jobs import POST_CALL, WEBHOOK, JobState
from switchboard_store.repository import CallRepository
from switchboard_testing.clock import VirtualClock

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
URL = "https://hooks.example.com/switchboard"
REPORT = (domain.Synthesis(short="done"), domain.NextAction(action="case_closed"))


async def webhook_jobs(repo: CallRepository) -> list[str]:
    return [j.job_id for j in await repo.jobs.list_jobs() if j.kind == WEBHOOK]


# Idempotency keys.


async def test_the_first_request_with_a_key_claims_it_and_a_retry_sees_its_call(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    first = await repo.control.claim_idempotency_key("client-a", "order-1", "h1")
    again = await repo.control.claim_idempotency_key("client-a", "order-1", "h1")
    assert (first.fresh, again.fresh, again.call_id) == (True, False, "")

    call = await repo.create_call(make_request(), OUT)
    settled = await repo.control.settle_idempotency_key("client-a", "order-1", call.call_id)
    retry = await repo.control.claim_idempotency_key("client-a", "order-1", "h2")

    assert settled.call_id == call.call_id
    assert (retry.fresh, retry.call_id, retry.request_hash) == (False, call.call_id, "h1")


async def test_keys_are_per_client(repo: CallRepository) -> None:
    a = await repo.control.claim_idempotency_key("client-a", "k", "h")
    b = await repo.control.claim_idempotency_key("client-b", "k", "h")
    assert a.fresh and b.fresh


async def test_of_concurrent_claims_of_one_key_exactly_one_is_fresh(repo: CallRepository) -> None:
    records = await asyncio.gather(
        *(repo.control.claim_idempotency_key("client-a", "same", "h") for _ in range(8))
    )
    assert sum(r.fresh for r in records) == 1


async def test_a_released_key_may_be_claimed_again_but_a_settled_one_is_kept(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    await repo.control.claim_idempotency_key("c", "k1", "h")
    assert await repo.control.release_idempotency_key("c", "k1")
    assert (await repo.control.claim_idempotency_key("c", "k1", "h")).fresh

    call = await repo.create_call(make_request(), OUT)
    await repo.control.claim_idempotency_key("c", "k2", "h")
    await repo.control.settle_idempotency_key("c", "k2", call.call_id)
    assert not await repo.control.release_idempotency_key("c", "k2")
    assert not (await repo.control.claim_idempotency_key("c", "k2", "h")).fresh


async def test_a_key_is_forgotten_after_its_expiry(
    repo: CallRepository, clock: VirtualClock
) -> None:
    await repo.control.claim_idempotency_key("c", "k", "h1")
    clock.advance(IDEMPOTENCY_TTL_SEC - 1)
    assert not (await repo.control.claim_idempotency_key("c", "k", "h2")).fresh
    clock.advance(2)
    renewed = await repo.control.claim_idempotency_key("c", "k", "h2")
    assert (renewed.fresh, renewed.request_hash) == (True, "h2")


@pytest.mark.parametrize(
    ("client", "key", "request_hash"),
    [
        ("", "k", "h"),
        ("c", "", "h"),
        ("c", "k", ""),
        ("c", "with space", "h"),
        ("c", "k" * 256, "h"),
    ],
)
async def test_bad_keys_are_refused(
    repo: CallRepository, client: str, key: str, request_hash: str
) -> None:
    with pytest.raises(InvalidArgument):
        await repo.control.claim_idempotency_key(client, key, request_hash)


async def test_settling_an_unknown_key_or_with_an_unknown_call_is_not_found(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    with pytest.raises(NotFound):
        await repo.control.settle_idempotency_key("c", "never-claimed", call.call_id)
    await repo.control.claim_idempotency_key("c", "k", "h")
    with pytest.raises(NotFound):
        await repo.control.settle_idempotency_key("c", "k", "6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90")


# Webhooks.


async def test_a_call_that_never_connected_queues_its_webhook_when_it_ends(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.control.set_call_webhook(CallWebhook(call.call_id, URL, "client-a"))
    await repo.set_call_state(call.call_id, domain.CallState.DIALING)
    assert await webhook_jobs(repo) == []

    await repo.set_call_state(call.call_id, domain.CallState.FAILED, "no_answer")
    await repo.set_call_state(call.call_id, domain.CallState.FAILED, "no_answer")

    assert await webhook_jobs(repo) == [f"webhook:{call.call_id}:1"]
    assert await repo.control.get_call_webhook(call.call_id) == CallWebhook(
        call.call_id, URL, "client-a"
    )


async def test_a_connected_call_queues_its_webhook_with_its_synthesis_not_its_ending(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.control.set_call_webhook(CallWebhook(call.call_id, URL, "client-a"))
    await repo.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await repo.set_call_state(call.call_id, domain.CallState.ENDED, "goodbye")
    assert await webhook_jobs(repo) == []

    job_id = f"{POST_CALL}:{call.call_id}:1"
    await repo.save_synthesis(call.call_id, *REPORT, job_id=job_id)
    await repo.save_synthesis(call.call_id, *REPORT, job_id=job_id)  # the job ran twice

    assert await webhook_jobs(repo) == [f"webhook:{call.call_id}:1"]


async def test_each_ending_of_a_resumed_call_is_posted_once(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.control.set_call_webhook(CallWebhook(call.call_id, URL, "client-a"))
    await repo.set_call_state(call.call_id, domain.CallState.FAILED, "busy")
    await repo.set_call_state(call.call_id, domain.CallState.DIALING)  # resumed: attempt 2
    await repo.set_call_state(call.call_id, domain.CallState.FAILED, "busy")

    assert sorted(await webhook_jobs(repo)) == [
        f"webhook:{call.call_id}:1",
        f"webhook:{call.call_id}:2",
    ]


async def test_a_webhook_set_after_the_report_is_complete_is_queued_at_once(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    failed = await repo.create_call(make_request("+14155550101"), OUT)
    await repo.set_call_state(failed.call_id, domain.CallState.FAILED, "no_answer")
    connected = await repo.create_call(make_request("+14155550102"), OUT)
    await repo.set_call_state(connected.call_id, domain.CallState.IN_PROGRESS)
    await repo.set_call_state(connected.call_id, domain.CallState.ENDED, "goodbye")

    await repo.control.set_call_webhook(CallWebhook(failed.call_id, URL, "c"))
    await repo.control.set_call_webhook(CallWebhook(connected.call_id, URL, "c"))
    # The connected call's report is not complete yet: its synthesis will queue it.
    assert await webhook_jobs(repo) == [f"webhook:{failed.call_id}:1"]

    await repo.save_synthesis(
        connected.call_id, *REPORT, job_id=f"{POST_CALL}:{connected.call_id}:1"
    )
    assert sorted(await webhook_jobs(repo)) == sorted(
        [f"webhook:{failed.call_id}:1", f"webhook:{connected.call_id}:1"]
    )
    [job] = [
        j for j in await repo.jobs.list_jobs() if j.job_id.startswith("webhook:" + failed.call_id)
    ]
    assert job.state is JobState.PENDING


async def test_a_call_without_a_webhook_queues_none_and_reads_as_not_found(
    repo: CallRepository, make_request: MakeRequest
) -> None:
    call = await repo.create_call(make_request(), OUT)
    await repo.set_call_state(call.call_id, domain.CallState.FAILED, "no_answer")

    assert await webhook_jobs(repo) == []
    with pytest.raises(NotFound):
        await repo.control.get_call_webhook(call.call_id)
    with pytest.raises(NotFound):
        await repo.control.set_call_webhook(
            CallWebhook("6f1c2a9e-3b57-4d2a-9a0e-2f1e4c7b8d90", URL, "c")
        )


@pytest.mark.parametrize("url", ["", "ftp://example.com/x", "https://x/" + "a" * 2100])
async def test_a_webhook_url_that_could_never_be_posted_to_is_refused(
    repo: CallRepository, make_request: MakeRequest, url: str
) -> None:
    call = await repo.create_call(make_request(), OUT)
    with pytest.raises(InvalidArgument):
        await repo.control.set_call_webhook(CallWebhook(call.call_id, url, "c"))


# Listing by state.


async def test_calls_are_listed_by_state(repo: CallRepository, make_request: MakeRequest) -> None:
    live = await repo.create_call(make_request("+14155550101"), OUT)
    await repo.set_call_state(live.call_id, domain.CallState.IN_PROGRESS)
    ringing = await repo.create_call(make_request("+14155550102"), OUT)
    await repo.set_call_state(ringing.call_id, domain.CallState.RINGING)
    over = await repo.create_call(make_request("+14155550101"), OUT)
    await repo.set_call_state(over.call_id, domain.CallState.FAILED, "busy")

    wanted = [domain.CallState.IN_PROGRESS, domain.CallState.RINGING]
    found, total = await repo.list_calls(states=wanted)
    assert ({c.call_id for c in found}, total) == ({live.call_id, ringing.call_id}, 2)

    mine, total = await repo.list_calls("+14155550101", states=wanted)
    assert ([c.call_id for c in mine], total) == ([live.call_id], 1)

    _all, total = await repo.list_calls()
    assert total == 3
