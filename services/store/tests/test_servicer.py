"""The Store service over real gRPC, driven through the shared StoreClient."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from switchboard import domain
from switchboard.call_events import CallEvent, ClaimChange
from switchboard.call_leases import LINE_DROPPED, CallLease
from switchboard.errors import FailedPrecondition, InvalidArgument, NotFound
from switchboard.jobs import POST_CALL, JobState
from switchboard.server import GrpcService
from switchboard.store_client import StoreClient
from switchboard.v1 import common_pb2, store_pb2, store_pb2_grpc
from switchboard_store.__main__ import SERVICE_NAMES, serve_repository
from switchboard_store.sqlite_repository import SqliteCallRepository
from switchboard_testing.clock import VirtualClock

MakeRequest = Callable[..., domain.CallRequest]
OUT = domain.CallDirection.OUTBOUND
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
STEP_SEC = 5.0


@dataclass
class Store:
    service: GrpcService
    client: StoreClient
    stub: store_pb2_grpc.StoreStub


@pytest.fixture
async def store(db_path: Path, clock: VirtualClock) -> AsyncIterator[Store]:
    repository = await SqliteCallRepository.open(db_path, clock)
    service = GrpcService("store", "127.0.0.1:0", SERVICE_NAMES)
    serve_repository(service, repository)
    port = await service.start()
    client = StoreClient(f"127.0.0.1:{port}")
    try:
        yield Store(service, client, store_pb2_grpc.StoreStub(client.channel))
    finally:
        await client.close()
        await service.stop(grace=0.5)


async def test_a_created_call_reads_back_the_same(store: Store, make_request: MakeRequest) -> None:
    call = await store.client.create_call(make_request(), OUT)
    assert call.state == domain.CallState.CREATED
    assert await store.client.get_call(call.call_id) == call
    calls, total = await store.client.list_calls()
    assert [c.call_id for c in calls] == [call.call_id] and total == 1


async def test_a_bad_phone_number_is_invalid_and_stores_nothing(
    store: Store, make_request: MakeRequest
) -> None:
    with pytest.raises(InvalidArgument, match=r"initiate\.phone_number must be E\.164"):
        await store.client.create_call(make_request(phone_number="12"), OUT)
    assert await store.client.list_calls() == ([], 0)


async def test_a_missing_claim_field_type_is_invalid_naming_the_field(store: Store) -> None:
    request = store_pb2.CreateCallRequest(
        initiate=common_pb2.CallRequest(
            phone_number="+14155550100", claim=[common_pb2.ClaimField(name="plate")]
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await store.stub.CreateCall(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'plate'" in (error.value.details() or "")


async def test_an_empty_request_is_invalid_not_internal(store: Store) -> None:
    for call, request in [
        (store.stub.CreateCall, store_pb2.CreateCallRequest()),
        (store.stub.GetCall, store_pb2.GetCallRequest()),
        (store.stub.FindOpenCall, store_pb2.FindOpenCallRequest()),
        (store.stub.SetCallState, store_pb2.SetCallStateRequest()),
        (store.stub.AppendMessages, store_pb2.AppendMessagesRequest()),
        (store.stub.UpdateClaim, store_pb2.UpdateClaimRequest()),
        (store.stub.UpsertReminder, store_pb2.UpsertReminderRequest()),
        (store.stub.SaveSynthesis, store_pb2.SaveSynthesisRequest()),
        (store.stub.SearchDocuments, store_pb2.SearchDocumentsRequest()),
        (
            store.stub.AddDocuments,
            store_pb2.AddDocumentsRequest(chunks=[store_pb2.DocumentChunk()]),
        ),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, call


async def test_unknown_and_malformed_ids_map_to_not_found_and_invalid(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.client.get_call(UNKNOWN_ID)
    with pytest.raises(InvalidArgument, match="UUID"):
        await store.client.get_call("x" * 100_000)


async def test_bad_enum_values_are_invalid_and_leave_the_call_alone(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    for state in (0, 99):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await store.stub.SetCallState(
                store_pb2.SetCallStateRequest(call_id=call.call_id, state=state)  # type: ignore[arg-type]
            )
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad_message = common_pb2.Message(persona=42, content="hi")  # type: ignore[arg-type]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await store.stub.AppendMessages(
            store_pb2.AppendMessagesRequest(call_id=call.call_id, messages=[bad_message])
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await store.client.get_call(call.call_id) == call


async def test_leaving_an_ended_call_without_resuming_is_a_failed_precondition(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    await store.client.set_call_state(call.call_id, domain.CallState.ENDED)
    with pytest.raises(FailedPrecondition):
        await store.client.set_call_state(call.call_id, domain.CallState.TRANSFERRING)
    resumed = await store.client.set_call_state(call.call_id, domain.CallState.DIALING)
    assert resumed.attempt == 2


async def test_a_language_switch_after_the_hang_up_keeps_the_call_ended(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    await store.client.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await store.client.set_call_state(call.call_id, domain.CallState.ENDED)

    switched = await store.client.set_call_language(call.call_id, "fr-FR")

    assert (switched.state, switched.attempt, switched.lang) == (
        domain.CallState.ENDED,
        1,
        "fr-FR",
    )


async def test_messages_round_trip_and_a_caller_sent_created_at_is_ignored(
    store: Store, make_request: MakeRequest, clock: VirtualClock
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    message = common_pb2.Message(
        persona=common_pb2.PERSONA_HUMAN, content="hello", turn_id="t1", seq=77
    )
    message.created_at.seconds = 10**15  # far outside what a datetime can hold
    reply = await store.stub.AppendMessages(
        store_pb2.AppendMessagesRequest(call_id=call.call_id, messages=[message], policy_state="{}")
    )
    assert reply.messages[0].seq == 1
    assert reply.messages[0].created_at.ToDatetime().year == clock.now().year
    stored = await store.client.get_call(call.call_id)
    assert stored.messages[0].content == "hello"
    assert stored.policy_state == "{}"


async def test_a_huge_message_is_invalid_and_not_stored(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    with pytest.raises(InvalidArgument, match="16 KiB"):
        await store.client.append_messages(
            call.call_id, [domain.Message(persona=domain.Persona.HUMAN, content="x" * 1_000_000)]
        )
    assert (await store.client.get_call(call.call_id)).messages == []


async def test_a_bad_claim_value_is_invalid_and_the_claim_unchanged(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    await store.client.update_claim(call.call_id, {"description": "dent"})
    with pytest.raises(InvalidArgument, match=r"claim field 'email' \(email\)"):
        await store.client.update_claim(call.call_id, {"description": "x", "email": "nope"})
    assert (await store.client.get_call(call.call_id)).claim == {"description": "dent"}

    reply = await store.stub.UpdateClaim(
        store_pb2.UpdateClaimRequest(
            call_id=call.call_id,
            updates=[store_pb2.ClaimUpdate(field="email", value=" Jane@Example.com ")],
        )
    )
    assert dict(reply.claim) == {"description": "dent", "email": "Jane@example.com"}
    assert [(u.field, u.value) for u in reply.applied] == [("email", "Jane@example.com")]


async def test_a_claim_update_carries_the_callers_words_and_a_bad_one_is_invalid(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    words = domain.Message(persona=domain.Persona.HUMAN, content="a dent", turn_id="t1")
    claim = await store.client.update_claim(call.call_id, {"description": "dent"}, [words])
    assert claim == {"description": "dent"}

    bad = common_pb2.Message(persona=99, content="x", turn_id="t2")  # type: ignore[arg-type]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await store.stub.UpdateClaim(
            store_pb2.UpdateClaimRequest(
                call_id=call.call_id,
                updates=[store_pb2.ClaimUpdate(field="description", value="scratch")],
                messages=[bad],
            )
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    stored = await store.client.get_call(call.call_id)
    assert [(m.turn_id, m.content) for m in stored.messages] == [("t1", "a dent")]
    assert stored.claim == {"description": "dent"}


async def test_a_reminder_with_an_impossible_due_date_is_invalid(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    reminder = common_pb2.Reminder(title="Call back")
    reminder.due_at.seconds = 10**15
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await store.stub.UpsertReminder(
            store_pb2.UpsertReminderRequest(call_id=call.call_id, reminder=reminder)
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    stored = await store.client.upsert_reminder(call.call_id, domain.Reminder(title="Call back"))
    assert stored.created_at is not None


async def test_find_open_call_and_save_synthesis_through_the_client(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    assert await store.client.find_open_call("+14155550100", 0) is None
    found = await store.client.find_open_call("+14155550100", 3, make_request())
    assert found is not None and found.call_id == call.call_id
    assert await store.client.find_open_call("+14155550100", 3, make_request(task="other")) is None

    saved = await store.client.save_synthesis(
        call.call_id,
        domain.Synthesis(short="a dent"),
        domain.NextAction(action="high_priority"),
        "We got it.",
    )
    assert saved.next_action == domain.NextAction(action="high_priority")
    with pytest.raises(InvalidArgument, match=r"next_action\.action"):
        await store.client.save_synthesis(
            call.call_id, domain.Synthesis(), domain.NextAction(action="nap"), ""
        )


async def test_documents_are_added_and_searched_over_grpc(store: Store) -> None:
    added = await store.stub.AddDocuments(
        store_pb2.AddDocumentsRequest(
            chunks=[
                store_pb2.DocumentChunk(id="a", content="bumper", embedding=[1.0, 0.0]),
                store_pb2.DocumentChunk(id="b", content="windscreen", embedding=[0.0, 1.0]),
            ]
        )
    )
    found = await store.stub.SearchDocuments(
        store_pb2.SearchDocumentsRequest(embedding=[0.9, 0.1], top_k=1)
    )
    assert added.added == 2
    assert [(r.chunk.id, r.chunk.content) for r in found.results] == [("a", "bumper")]
    assert found.results[0].score == pytest.approx(0.9939, abs=1e-3)


async def test_a_watch_replays_then_streams_live_events(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    seen: list[CallEvent] = []
    started = asyncio.Event()

    async def watch() -> None:
        async for event in store.client.watch_call(call.call_id):
            seen.append(event)
            started.set()
            if isinstance(event.payload, ClaimChange):
                return

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(watch(), name="watcher")
        await asyncio.wait_for(started.wait(), STEP_SEC)
        await store.client.update_claim(call.call_id, {"description": "dent"})

    assert [(e.call_id, e.seq, e.payload) for e in seen] == [
        (call.call_id, 1, domain.CallState.CREATED),
        (call.call_id, 2, ClaimChange("description", "dent")),
    ]


async def test_a_calls_events_are_listed_page_by_page_without_waiting(
    store: Store, make_request: MakeRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("switchboard.store_client.EVENT_PAGE", 2)  # three pages of events
    call = await store.client.create_call(make_request(), OUT)
    await store.client.set_call_state(call.call_id, domain.CallState.DIALING)
    await store.client.update_claim(call.call_id, {"description": "dent"})
    await store.client.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await store.client.set_call_state(call.call_id, domain.CallState.ENDED, "end_call")

    events = await asyncio.wait_for(store.client.call_events(call.call_id), STEP_SEC)

    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # none lost, none twice
    assert [e.payload for e in events if not isinstance(e.payload, domain.Message)] == [
        domain.CallState.CREATED,
        domain.CallState.DIALING,
        ClaimChange("description", "dent"),
        domain.CallState.IN_PROGRESS,
        domain.CallState.ENDED,
    ]  # and the transcript's messages in between
    assert [e.at for e in events] == sorted(e.at for e in events)


async def test_listing_events_checks_the_call_and_the_limit(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.client.call_events(UNKNOWN_ID)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await store.stub.ListCallEvents(
            store_pb2.ListCallEventsRequest(call_id=UNKNOWN_ID, limit=-1)
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "limit" in (refused.value.details() or "")


async def test_calls_are_paged_with_an_offset_over_grpc(
    store: Store, make_request: MakeRequest, clock: VirtualClock
) -> None:
    ids = []
    for _ in range(3):
        ids.append((await store.client.create_call(make_request(), OUT)).call_id)
        clock.advance(60)
    older, total = await store.client.list_calls(limit=2, offset=2)
    assert [c.call_id for c in older] == [ids[0]] and total == 3
    with pytest.raises(InvalidArgument, match="offset"):
        await store.client.list_calls(offset=-1)


async def test_watching_an_unknown_call_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        async for _ in store.client.watch_call(UNKNOWN_ID):
            pass


async def test_a_watch_ends_cleanly_when_the_server_shuts_down(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    seen: list[int] = []
    started = asyncio.Event()

    async def watch() -> None:
        async for event in store.client.watch_call(call.call_id):
            seen.append(event.seq)
            started.set()

    task = asyncio.create_task(watch(), name="watcher")
    await asyncio.wait_for(started.wait(), STEP_SEC)
    await store.service.stop(grace=0.2)
    await asyncio.wait_for(task, STEP_SEC)
    assert seen == [1]


async def test_a_worker_claims_and_completes_a_post_call_job_over_grpc(
    store: Store, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    await store.client.set_call_state(call.call_id, domain.CallState.IN_PROGRESS)
    await store.client.set_call_state(call.call_id, domain.CallState.ENDED)

    job = await store.client.claim_job("brain-1", [POST_CALL], 30)
    assert job is not None
    assert (job.call_id, job.state, job.attempts, job.leased_by) == (
        call.call_id,
        JobState.RUNNING,
        1,
        "brain-1",
    )
    assert await store.client.claim_job("brain-2", [POST_CALL], 30) is None
    with pytest.raises(FailedPrecondition):
        await store.client.complete_job(job.job_id, "someone-else's-token")
    done = await store.client.complete_job(job.job_id, job.lease_token)
    assert done.state is JobState.DONE
    assert [j.job_id for j in await store.client.list_jobs(JobState.DONE)] == [job.job_id]
    assert await store.client.list_jobs(JobState.DEAD) == []


async def test_an_unknown_job_state_filter_is_an_invalid_argument(store: Store) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await store.stub.ListJobs(store_pb2.ListJobsRequest(state=99))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_dialer_leases_over_grpc_take_renew_and_end_a_gone_replicas_call(
    store: Store, clock: VirtualClock, make_request: MakeRequest
) -> None:
    call = await store.client.create_call(make_request(), OUT)
    lease = CallLease("dialer-a", 10.0)
    await store.client.set_call_state(call.call_id, domain.CallState.IN_PROGRESS, lease=lease)
    with pytest.raises(FailedPrecondition, match="another dialer replica"):
        await store.client.set_call_state(
            call.call_id, domain.CallState.IN_PROGRESS, lease=CallLease("dialer-b", 10.0)
        )
    assert await store.client.renew_call_leases("dialer-a", [call.call_id], 10.0) == [call.call_id]
    assert await store.client.end_orphaned_calls() == []
    clock.advance(11)

    assert await store.client.end_orphaned_calls() == [call.call_id]
    ended = await store.client.get_call(call.call_id)
    assert (ended.state, ended.state_reason) == (domain.CallState.ENDED, LINE_DROPPED)


async def test_bad_lease_requests_are_invalid_not_internal(store: Store) -> None:
    for rpc, request, detail in [
        (store.stub.RenewCallLeases, store_pb2.RenewCallLeasesRequest(), "owner is required"),
        (
            store.stub.RenewCallLeases,
            store_pb2.RenewCallLeasesRequest(owner="d", lease_sec=float("inf")),
            "lease_sec must be above 0",
        ),
        (store.stub.EndOrphanedCalls, store_pb2.EndOrphanedCallsRequest(limit=-5), "limit"),
        (
            store.stub.SetCallState,
            store_pb2.SetCallStateRequest(
                call_id=UNKNOWN_ID,
                state=common_pb2.CALL_STATE_IN_PROGRESS,
                lease=store_pb2.CallLease(owner="d"),
            ),
            "lease.lease_sec",
        ),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await rpc(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert detail in (error.value.details() or "")
