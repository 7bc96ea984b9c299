"""The Store gRPC servicer: a thin edge from wire messages to the repository and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc

from switchboard import call_control_wire, convert, domain
from switchboard.call_control import CallWebhook
from switchboard.grpc_edge import grpc_errors
from switchboard.v1 import common_pb2, store_pb2, store_pb2_grpc
from switchboard_store import validation, wire
from switchboard_store.job_queue import JobQueue
from switchboard_store.repository import EVENT_PAGE, CallRepository

Context: TypeAlias = grpc.aio.ServicerContext


class StoreServicer(store_pb2_grpc.StoreServicer):
    """Implements ``switchboard.v1.Store`` over any :class:`CallRepository`; the job RPCs
    go to ``jobs`` when given (the Redis queue), else to the repository's own queue."""

    def __init__(self, repository: CallRepository, jobs: JobQueue | None = None) -> None:
        self._repo = repository
        self._jobs = jobs or repository.jobs

    @grpc_errors
    async def CreateCall(
        self, request: store_pb2.CreateCallRequest, context: Context
    ) -> common_pb2.Call:
        call = await self._repo.create_call(
            wire.call_request(request.initiate), convert.direction_from_pb(request.direction)
        )
        return convert.call_to_pb(call)

    @grpc_errors
    async def GetCall(self, request: store_pb2.GetCallRequest, context: Context) -> common_pb2.Call:
        return convert.call_to_pb(await self._repo.get_call(request.call_id))

    @grpc_errors
    async def ListCalls(
        self, request: store_pb2.ListCallsRequest, context: Context
    ) -> store_pb2.ListCallsResponse:
        states = [wire.call_state(s) for s in request.states]
        calls, total = await self._repo.list_calls(
            request.phone_number, request.limit, states, request.offset
        )
        return store_pb2.ListCallsResponse(
            calls=[convert.call_to_pb(c) for c in calls], total=total
        )

    @grpc_errors
    async def FindOpenCall(
        self, request: store_pb2.FindOpenCallRequest, context: Context
    ) -> store_pb2.FindOpenCallResponse:
        initiate = wire.call_request(request.initiate) if request.HasField("initiate") else None
        call = await self._repo.find_open_call(request.phone_number, request.within_hours, initiate)
        if call is None:
            return store_pb2.FindOpenCallResponse(found=False)
        return store_pb2.FindOpenCallResponse(found=True, call=convert.call_to_pb(call))

    @grpc_errors
    async def SetCallState(
        self, request: store_pb2.SetCallStateRequest, context: Context
    ) -> common_pb2.Call:
        call = await self._repo.set_call_state(
            request.call_id,
            wire.call_state(request.state),
            request.reason,
            wire.call_lease(request.lease) if request.HasField("lease") else None,
        )
        return convert.call_to_pb(call)

    @grpc_errors
    async def SetCallLanguage(
        self, request: store_pb2.SetCallLanguageRequest, context: Context
    ) -> common_pb2.Call:
        call = await self._repo.set_call_language(request.call_id, request.lang)
        return convert.call_to_pb(call)

    @grpc_errors
    async def AppendMessages(
        self, request: store_pb2.AppendMessagesRequest, context: Context
    ) -> store_pb2.AppendMessagesResponse:
        messages = [wire.message(m, i) for i, m in enumerate(request.messages)]
        policy_state = request.policy_state if request.HasField("policy_state") else None
        stored = await self._repo.append_messages(request.call_id, messages, policy_state)
        return store_pb2.AppendMessagesResponse(messages=[convert.message_to_pb(m) for m in stored])

    @grpc_errors
    async def UpdateClaim(
        self, request: store_pb2.UpdateClaimRequest, context: Context
    ) -> store_pb2.UpdateClaimResponse:
        result = await self._repo.update_claim(
            request.call_id,
            [(u.field, u.value) for u in request.updates],
            [wire.message(m, i) for i, m in enumerate(request.messages)],
        )
        return store_pb2.UpdateClaimResponse(
            claim=result.claim,
            applied=[store_pb2.ClaimUpdate(field=c.field, value=c.value) for c in result.applied],
        )

    @grpc_errors
    async def UpsertReminder(
        self, request: store_pb2.UpsertReminderRequest, context: Context
    ) -> common_pb2.Reminder:
        stored = await self._repo.upsert_reminder(request.call_id, wire.reminder(request))
        return convert.reminder_to_pb(stored)

    @grpc_errors
    async def SaveSynthesis(
        self, request: store_pb2.SaveSynthesisRequest, context: Context
    ) -> common_pb2.Call:
        call = await self._repo.save_synthesis(
            request.call_id,
            convert.synthesis_from_pb(request.synthesis),
            domain.NextAction(
                action=request.next_action.action,
                justification=request.next_action.justification,
            ),
            request.sms_summary,
            request.job_id,
        )
        return convert.call_to_pb(call)

    @grpc_errors
    async def AddDocuments(
        self, request: store_pb2.AddDocumentsRequest, context: Context
    ) -> store_pb2.AddDocumentsResponse:
        added = await self._repo.add_documents([wire.chunk(c) for c in request.chunks])
        return store_pb2.AddDocumentsResponse(added=added)

    @grpc_errors
    async def SearchDocuments(
        self, request: store_pb2.SearchDocumentsRequest, context: Context
    ) -> store_pb2.SearchDocumentsResponse:
        hits = await self._repo.search_documents(
            list(request.embedding), request.top_k, request.min_score
        )
        return store_pb2.SearchDocumentsResponse(results=[wire.scored_chunk(h) for h in hits])

    @grpc_errors
    async def WatchCall(
        self, request: common_pb2.WatchCallRequest, context: Context
    ) -> AsyncIterator[common_pb2.CallEvent]:
        events = self._repo.watch_call(request.call_id, request.after_seq)
        try:
            async for event in events:
                yield wire.event(event)
        finally:
            await events.aclose()

    @grpc_errors
    async def ListCallEvents(
        self, request: store_pb2.ListCallEventsRequest, context: Context
    ) -> store_pb2.ListCallEventsResponse:
        limit = validation.event_limit(request.limit, EVENT_PAGE)
        events = await self._repo.events_after(request.call_id, request.after_seq, limit)
        return store_pb2.ListCallEventsResponse(events=[wire.event(e) for e in events])

    @grpc_errors
    async def ClaimJob(
        self, request: store_pb2.ClaimJobRequest, context: Context
    ) -> store_pb2.ClaimJobResponse:
        job = await self._jobs.claim(request.worker, list(request.kinds), request.lease_sec)
        if job is None:
            return store_pb2.ClaimJobResponse(found=False)
        return store_pb2.ClaimJobResponse(found=True, job=convert.job_to_pb(job))

    @grpc_errors
    async def CompleteJob(
        self, request: store_pb2.CompleteJobRequest, context: Context
    ) -> store_pb2.Job:
        job = await self._jobs.complete(request.job_id, request.lease_token)
        return convert.job_to_pb(job)

    @grpc_errors
    async def FailJob(self, request: store_pb2.FailJobRequest, context: Context) -> store_pb2.Job:
        job = await self._jobs.fail(request.job_id, request.lease_token, request.error)
        return convert.job_to_pb(job)

    @grpc_errors
    async def ListJobs(
        self, request: store_pb2.ListJobsRequest, context: Context
    ) -> store_pb2.ListJobsResponse:
        jobs = await self._jobs.list_jobs(wire.job_state(request.state), request.limit)
        return store_pb2.ListJobsResponse(jobs=[convert.job_to_pb(j) for j in jobs])

    @grpc_errors
    async def RenewCallLeases(
        self, request: store_pb2.RenewCallLeasesRequest, context: Context
    ) -> store_pb2.RenewCallLeasesResponse:
        renewed = await self._repo.renew_call_leases(
            request.owner, list(request.call_ids), request.lease_sec
        )
        return store_pb2.RenewCallLeasesResponse(renewed=renewed)

    @grpc_errors
    async def EndOrphanedCalls(
        self, request: store_pb2.EndOrphanedCallsRequest, context: Context
    ) -> store_pb2.EndOrphanedCallsResponse:
        ended = await self._repo.end_orphaned_calls(request.owner, request.limit)
        return store_pb2.EndOrphanedCallsResponse(call_ids=ended)

    @grpc_errors
    async def ReplayJob(
        self, request: store_pb2.ReplayJobRequest, context: Context
    ) -> store_pb2.Job:
        return convert.job_to_pb(await self._jobs.replay(request.job_id))

    @grpc_errors
    async def ClaimIdempotencyKey(
        self, request: store_pb2.ClaimIdempotencyKeyRequest, context: Context
    ) -> store_pb2.IdempotencyRecord:
        record = await self._repo.control.claim_idempotency_key(
            request.client, request.key, request.request_hash, request.expire_after_sec
        )
        return call_control_wire.record_to_pb(record)

    @grpc_errors
    async def SettleIdempotencyKey(
        self, request: store_pb2.SettleIdempotencyKeyRequest, context: Context
    ) -> store_pb2.IdempotencyRecord:
        record = await self._repo.control.settle_idempotency_key(
            request.client, request.key, request.call_id
        )
        return call_control_wire.record_to_pb(record)

    @grpc_errors
    async def ReleaseIdempotencyKey(
        self, request: store_pb2.ReleaseIdempotencyKeyRequest, context: Context
    ) -> store_pb2.ReleaseIdempotencyKeyResponse:
        released = await self._repo.control.release_idempotency_key(request.client, request.key)
        return store_pb2.ReleaseIdempotencyKeyResponse(released=released)

    @grpc_errors
    async def SetCallWebhook(
        self, request: store_pb2.CallWebhook, context: Context
    ) -> store_pb2.CallWebhook:
        webhook = call_control_wire.webhook_from_pb(request)
        stored: CallWebhook = await self._repo.control.set_call_webhook(webhook)
        return call_control_wire.webhook_to_pb(stored)

    @grpc_errors
    async def GetCallWebhook(
        self, request: store_pb2.GetCallWebhookRequest, context: Context
    ) -> store_pb2.CallWebhook:
        webhook = await self._repo.control.get_call_webhook(request.call_id)
        return call_control_wire.webhook_to_pb(webhook)
