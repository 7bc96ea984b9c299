"""A domain-typed client of the Store service, shared by every service that calls it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import grpc

from switchboard import convert, domain
from switchboard.call_events import CallEvent
from switchboard.call_leases import CallLease
from switchboard.channels import open_channel
from switchboard.grpc_edge import domain_error
from switchboard.jobs import Job, JobState
from switchboard.v1 import common_pb2, store_pb2, store_pb2_grpc

T = TypeVar("T")

DEFAULT_TIMEOUT_SEC = 5.0
EVENT_PAGE = 500  # the most events one ListCallEvents answer holds


class StoreClient:
    """Calls the store; raises domain errors (``NotFound``, ``InvalidArgument``, …)."""

    def __init__(self, address: str, timeout_sec: float = DEFAULT_TIMEOUT_SEC) -> None:
        self._channel = open_channel(address)
        self._stub = store_pb2_grpc.StoreStub(self._channel)  # type: ignore[no-untyped-call]
        self._timeout = timeout_sec

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    async def close(self) -> None:
        await self._channel.close()

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        reply = await self._unary(
            self._stub.CreateCall,
            store_pb2.CreateCallRequest(
                initiate=convert.request_to_pb(initiate),
                direction=convert.direction_to_pb(direction),
            ),
        )
        return convert.call_from_pb(reply)

    async def get_call(self, call_id: str) -> domain.Call:
        reply = await self._unary(self._stub.GetCall, store_pb2.GetCallRequest(call_id=call_id))
        return convert.call_from_pb(reply)

    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[domain.CallState] = (),
        offset: int = 0,
    ) -> tuple[list[domain.Call], int]:
        """Newest first after skipping ``offset`` matches, without messages; and the total."""
        request = store_pb2.ListCallsRequest(
            phone_number=phone_number,
            limit=limit,
            states=[convert.call_state_to_pb(s) for s in states],
            offset=offset,
        )
        reply = await self._unary(self._stub.ListCalls, request)
        return [convert.call_from_pb(c) for c in reply.calls], reply.total

    async def find_open_call(
        self, phone_number: str, within_hours: float, initiate: domain.CallRequest | None = None
    ) -> domain.Call | None:
        reply = await self._unary(
            self._stub.FindOpenCall,
            store_pb2.FindOpenCallRequest(
                phone_number=phone_number,
                within_hours=within_hours,
                initiate=convert.request_to_pb(initiate) if initiate else None,
            ),
        )
        return convert.call_from_pb(reply.call) if reply.found else None

    async def set_call_state(
        self,
        call_id: str,
        state: domain.CallState,
        reason: str = "",
        lease: CallLease | None = None,
    ) -> domain.Call:
        """The call's state; with ``lease`` and a live state, the call is leased to that
        dialer replica in the same write (``FailedPrecondition`` while another holds it)."""
        reply = await self._unary(
            self._stub.SetCallState,
            store_pb2.SetCallStateRequest(
                call_id=call_id,
                state=convert.call_state_to_pb(state),
                reason=reason,
                lease=(
                    store_pb2.CallLease(
                        owner=lease.owner, lease_sec=lease.lease_sec, address=lease.address
                    )
                    if lease is not None
                    else None
                ),
            ),
        )
        return convert.call_from_pb(reply)

    async def renew_call_leases(
        self, owner: str, call_ids: list[str], lease_sec: float
    ) -> list[str]:
        """Renews ``owner``'s leases on these calls; returns those still its own."""
        reply = await self._unary(
            self._stub.RenewCallLeases,
            store_pb2.RenewCallLeasesRequest(owner=owner, call_ids=call_ids, lease_sec=lease_sec),
        )
        return list(reply.renewed)

    async def end_orphaned_calls(self, owner: str = "", limit: int = 100) -> list[str]:
        """Ends the calls of a gone dialer replica as ``line_dropped`` (``owner``'s, or
        those whose lease expired); returns their ids."""
        reply = await self._unary(
            self._stub.EndOrphanedCalls,
            store_pb2.EndOrphanedCallsRequest(owner=owner, limit=limit),
        )
        return list(reply.call_ids)

    async def set_call_language(self, call_id: str, lang: str) -> domain.Call:
        """The call's current language; its state is left alone."""
        reply = await self._unary(
            self._stub.SetCallLanguage,
            store_pb2.SetCallLanguageRequest(call_id=call_id, lang=lang),
        )
        return convert.call_from_pb(reply)

    async def append_messages(
        self, call_id: str, messages: list[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]:
        reply = await self._unary(
            self._stub.AppendMessages,
            store_pb2.AppendMessagesRequest(
                call_id=call_id,
                messages=[convert.message_to_pb(m) for m in messages],
                policy_state=policy_state,
            ),
        )
        return [convert.message_from_pb(m) for m in reply.messages]

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[domain.Message] = ()
    ) -> dict[str, str]:
        """Applies all updates or none, appending ``messages`` in the same transaction;
        returns the whole claim after the update."""
        reply = await self._unary(
            self._stub.UpdateClaim,
            store_pb2.UpdateClaimRequest(
                call_id=call_id,
                updates=[store_pb2.ClaimUpdate(field=k, value=v) for k, v in updates.items()],
                messages=[convert.message_to_pb(m) for m in messages],
            ),
        )
        return dict(reply.claim)

    async def upsert_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
        reply = await self._unary(
            self._stub.UpsertReminder,
            store_pb2.UpsertReminderRequest(
                call_id=call_id, reminder=convert.reminder_to_pb(reminder)
            ),
        )
        return convert.reminder_from_pb(reply)

    async def save_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str,
        job_id: str = "",
    ) -> domain.Call:
        """Stores the post-call report; with ``job_id``, once however often the job runs."""
        reply = await self._unary(
            self._stub.SaveSynthesis,
            store_pb2.SaveSynthesisRequest(
                call_id=call_id,
                synthesis=convert.synthesis_to_pb(synthesis),
                next_action=convert.next_action_to_pb(next_action),
                sms_summary=sms_summary,
                job_id=job_id,
            ),
        )
        return convert.call_from_pb(reply)

    async def claim_job(self, worker: str, kinds: list[str], lease_sec: float) -> Job | None:
        """The oldest due job of ``kinds``, leased to ``worker``; None when there is none."""
        reply = await self._unary(
            self._stub.ClaimJob,
            store_pb2.ClaimJobRequest(worker=worker, kinds=kinds, lease_sec=lease_sec),
        )
        return convert.job_from_pb(reply.job) if reply.found else None

    async def complete_job(self, job_id: str, lease_token: str) -> Job:
        """FailedPrecondition when the lease expired and another worker has the job."""
        reply = await self._unary(
            self._stub.CompleteJob,
            store_pb2.CompleteJobRequest(job_id=job_id, lease_token=lease_token),
        )
        return convert.job_from_pb(reply)

    async def fail_job(self, job_id: str, lease_token: str, error: str) -> Job:
        """Gives the job back: retried after a back-off, or dead after its last try."""
        reply = await self._unary(
            self._stub.FailJob,
            store_pb2.FailJobRequest(job_id=job_id, lease_token=lease_token, error=error),
        )
        return convert.job_from_pb(reply)

    async def list_jobs(self, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """Jobs in ``state`` (all when None), oldest first."""
        reply = await self._unary(
            self._stub.ListJobs,
            store_pb2.ListJobsRequest(state=convert.job_state_to_pb(state), limit=limit),
        )
        return [convert.job_from_pb(j) for j in reply.jobs]

    async def replay_job(self, job_id: str) -> Job:
        """A dead job back to pending (FailedPrecondition when it is not dead)."""
        reply = await self._unary(self._stub.ReplayJob, store_pb2.ReplayJobRequest(job_id=job_id))
        return convert.job_from_pb(reply)

    async def add_documents(self, chunks: list[domain.DocumentChunk]) -> int:
        """Adds (or replaces, by id) knowledge-base chunks with their embeddings."""
        reply = await self._unary(
            self._stub.AddDocuments,
            store_pb2.AddDocumentsRequest(
                chunks=[
                    store_pb2.DocumentChunk(
                        id=c.id,
                        source=c.source,
                        title=c.title,
                        content=c.content,
                        embedding=c.embedding,
                    )
                    for c in chunks
                ]
            ),
        )
        return int(reply.added)

    async def search_documents(
        self, embedding: list[float], top_k: int = 5, min_score: float = 0.0
    ) -> list[domain.ChunkHit]:
        """The ``top_k`` chunks nearest to ``embedding`` (cosine), best first."""
        reply = await self._unary(
            self._stub.SearchDocuments,
            store_pb2.SearchDocumentsRequest(embedding=embedding, top_k=top_k, min_score=min_score),
        )
        return [
            domain.ChunkHit(
                id=r.chunk.id,
                source=r.chunk.source,
                title=r.chunk.title,
                content=r.chunk.content,
                score=r.score,
            )
            for r in reply.results
        ]

    async def watch_call(self, call_id: str, after_seq: int = 0) -> AsyncIterator[CallEvent]:
        """The call's events after ``after_seq``, then new ones as they are stored.

        Ends when the store ends the stream (shutdown); closing the iterator cancels it.
        Event kinds this code does not know (a newer store) are skipped.
        """
        stream = self._stub.WatchCall(
            common_pb2.WatchCallRequest(call_id=call_id, after_seq=after_seq)
        )
        try:
            async for msg in stream:
                event = convert.call_event_from_pb(msg)
                if event is not None:
                    yield event
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                raise domain_error(exc) from exc
        finally:
            stream.cancel()

    async def call_events(self, call_id: str) -> list[CallEvent]:
        """Every stored event of the call, oldest first, read page by page without waiting
        for new ones. Event kinds this code does not know (a newer store) are skipped."""
        events: list[CallEvent] = []
        after_seq = 0
        while True:
            reply = await self._unary(
                self._stub.ListCallEvents,
                store_pb2.ListCallEventsRequest(
                    call_id=call_id, after_seq=after_seq, limit=EVENT_PAGE
                ),
            )
            for msg in reply.events:
                after_seq = max(after_seq, msg.seq)
                event = convert.call_event_from_pb(msg)
                if event is not None:
                    events.append(event)
            if len(reply.events) < EVENT_PAGE:
                return events

    async def _unary(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
