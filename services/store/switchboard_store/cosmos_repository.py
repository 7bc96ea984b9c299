"""The Cosmos DB store: calls, knowledge and events in one database, over ``azure.cosmos.aio``.

A change to a call reads the call document, decides (:mod:`cosmos_writes`) and commits
the new document and its message and event items as one transactional batch whose
first operation replaces the document ``if_match`` its ETag. When another writer (a
second store replica, or a concurrent request here) committed in between, the batch
fails with 412 and the change runs again on a fresh read: optimistic concurrency, so
seqs stay gapless and a claim update never overwrites one it did not see.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from azure.cosmos import exceptions
from azure.cosmos.aio import CosmosClient

from switchboard import domain, telemetry
from switchboard.call_leases import CallLease
from switchboard.clock import Clock
from switchboard.errors import NotFound, Unavailable
from switchboard_store import (
    cosmos_calls,
    cosmos_db,
    cosmos_jobs,
    cosmos_knowledge,
    cosmos_leases,
    cosmos_reads,
    cosmos_writes,
    vectors,
)
from switchboard_store.cosmos_calls import CallChange
from switchboard_store.cosmos_control import CosmosControlRecords
from switchboard_store.cosmos_db import Containers, CosmosOptions
from switchboard_store.cosmos_jobs import CosmosJobQueue
from switchboard_store.job_queue import RetryPolicy
from switchboard_store.repository import CallEvent, ClaimUpdateResult, DocumentChunk
from switchboard_store.stored_repository import StoredCallRepository

log = logging.getLogger(__name__)

T = TypeVar("T")
# A change retried this often without committing gives up (Unavailable, retryable).
MAX_CONFLICTS = 200
# A transactional batch holds at most 100 operations and 2 MB.
BATCH_OPERATIONS = 100
BATCH_BYTES = 1_500_000


def _batches(change: CallChange, etag: str) -> Iterator[list[Any]]:
    """The change as batches: the first replaces the call document under ``etag``; a
    change too large for one batch continues with batches of its remaining items."""
    call = cosmos_calls.without_system(change.call)
    batch: list[Any] = [("replace", (change.call_id, call), {"if_match_etag": etag})]
    size = len(json.dumps(call))
    for op, item in change.items:
        item_size = len(json.dumps(item))
        if len(batch) == BATCH_OPERATIONS or size + item_size > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append((op, (item["id"], item) if op == "replace" else (item,)))
        size += item_size
    yield batch


def _latest_event(change: CallChange) -> dict[str, int]:
    return {change.call_id: change.latest_event} if change.latest_event else {}


class CosmosCallRepository(StoredCallRepository):
    """The store on Cosmos DB. Create it with :meth:`open`."""

    def __init__(
        self,
        client: CosmosClient,
        containers: Containers,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(clock)
        self._client = client
        self._containers = containers
        self._jobs = CosmosJobQueue(containers.jobs, self._clock, retry, self._relay_outboxes)
        self._control = CosmosControlRecords(containers, self._change, self._now)
        self._index_generation: int | None = None

    @classmethod
    async def open(
        cls,
        options: CosmosOptions,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        migrate: bool = False,
    ) -> CosmosCallRepository:
        """Connects; applies pending layout versions when ``migrate``, else refuses to
        start on a layout that is not this release's. Relays outboxes a crash left."""
        client = await cosmos_db.connect(options)
        try:
            if migrate:
                database = await cosmos_db.create_database(client, options.database)
                applied = await cosmos_db.apply_layouts(database)
            else:
                database, applied = client.get_database_client(options.database), []
            await cosmos_db.check_current(database)
            repo = cls(client, Containers.of(database), clock, retry)
            await repo._relay_outboxes()
        except BaseException:
            await client.close()
            raise
        log.info(
            "store database open",
            extra={
                "backend": "cosmos",
                "database": options.database,
                "migrations_applied": applied,
            },
        )
        return repo

    async def _disconnect(self) -> None:
        await self._client.close()

    # Writes.

    async def _change(
        self, call_id: str, decide: Callable[[CallChange], Awaitable[T]]
    ) -> tuple[T, CallChange]:
        """Runs ``decide`` on the call as stored and commits what it recorded; on a
        conflict (412) runs it again on a fresh read. Survives its caller's cancellation:
        the commit and the watchers' wake-up happen in a task of their own (:meth:`_committed`)."""
        now = self._now()
        with telemetry.span("store.write", {"store.backend": "cosmos"}):
            traceparent = telemetry.current_traceparent()

            async def run() -> tuple[tuple[T, CallChange], dict[str, int]]:
                with cosmos_db.service_errors():
                    for conflicts in range(MAX_CONFLICTS):
                        doc = await cosmos_reads.call_document(self._containers, call_id)
                        change = CallChange(cosmos_calls.without_system(doc), now, traceparent)
                        result = await decide(change)
                        if not change.changed:
                            return (result, change), _latest_event(change)
                        try:
                            await self._commit(change, doc["_etag"])
                        except exceptions.CosmosBatchOperationError as exc:
                            if exc.status_code != 412:
                                raise
                            # Another writer got there first: back off a little, read again.
                            await asyncio.sleep(random.uniform(0, 0.002 * min(conflicts, 10)))
                            continue
                        if change.call["outbox_pending"]:
                            await self._relay_outbox(change.call_id, change.call["outbox"])
                        return (result, change), _latest_event(change)
                raise Unavailable("too many concurrent writes to this call; try again")

            return await self._committed(run())

    async def _commit(self, change: CallChange, etag: str) -> None:
        for batch in _batches(change, etag):
            await self._containers.calls.execute_item_batch(batch, partition_key=change.call_id)

    async def _relay_outbox(self, call_id: str, outbox: list[dict[str, Any]]) -> None:
        """Copies a committed outbox to ``jobs`` and empties it; a failure leaves it for
        the sweep (the change itself is committed)."""
        try:
            await cosmos_jobs.relay(self._containers.jobs, outbox)
            await self._clear_outbox(call_id, [j["job_id"] for j in outbox])
        except exceptions.CosmosHttpResponseError:
            log.warning("job relay failed; the sweep relays it", extra={"call_id": call_id})

    async def _clear_outbox(self, call_id: str, job_ids: list[str]) -> None:
        async def clear(change: CallChange) -> None:
            left = [j for j in change.call["outbox"] if j["job_id"] not in job_ids]
            change.set(outbox=left, outbox_pending=bool(left))

        while True:
            doc = await cosmos_reads.call_document(self._containers, call_id)
            change = CallChange(cosmos_calls.without_system(doc), self._now())
            await clear(change)
            try:
                await self._commit(change, doc["_etag"])
                return
            except exceptions.CosmosBatchOperationError as exc:
                if exc.status_code != 412:
                    raise

    async def _relay_outboxes(self) -> None:
        with cosmos_db.service_errors():
            await cosmos_jobs.relay_outboxes(
                self._containers.calls, self._containers.jobs, self._clear_outbox
            )

    async def _store_call(
        self, call_id: str, request: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call:
        now = self._now()
        doc = cosmos_calls.new_call(call_id, request, direction, now)
        change = CallChange(doc, now)
        change.add_event(domain.CallState.CREATED)
        with cosmos_db.service_errors():
            if request.phone_number:
                # The index entry first: a call is never missing from its number's
                # lookup; an entry whose call was never written is skipped by readers.
                await self._containers.calls_by_number.create_item(cosmos_db.number_entry(doc))
            batch: list[Any] = [("create", (doc,))]
            batch += [("create", (item,)) for _, item in change.items]
            await self._containers.calls.execute_item_batch(batch, partition_key=call_id)
        self.notifier.publish({call_id: change.latest_event})
        return cosmos_calls.call_from_items(doc, [])

    async def _load_call(self, call_id: str) -> domain.Call:
        with cosmos_db.service_errors():
            return await cosmos_reads.load_whole_call(self._containers, call_id)

    async def _load_calls(
        self, number: str, limit: int, states: Sequence[domain.CallState], offset: int
    ) -> tuple[list[domain.Call], int]:
        with cosmos_db.service_errors():
            return await cosmos_reads.list_calls(self._containers, number, limit, states, offset)

    async def _load_open_call(
        self, number: str, since: datetime, wanted: str | None
    ) -> domain.Call | None:
        with cosmos_db.service_errors():
            return await cosmos_reads.find_open_call(self._containers, number, since, wanted)

    async def _whole_call_after(self, call_id: str, decide: Callable[[CallChange], Any]) -> Any:
        await self._change(call_id, decide)
        with cosmos_db.service_errors():
            return await cosmos_reads.load_whole_call(self._containers, call_id)

    async def _store_call_state(
        self, call_id: str, state: domain.CallState, reason: str, lease: CallLease | None
    ) -> domain.Call:
        async def decide(change: CallChange) -> None:
            cosmos_writes.set_call_state(change, state, reason, lease)

        call: domain.Call = await self._whole_call_after(call_id, decide)
        return call

    async def _store_lease_renewals(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        # One change per call (each under its own ETag), all at once.
        async def renew(call_id: str) -> bool:
            async def decide(change: CallChange) -> bool:
                return cosmos_leases.renew(change, owner, lease_sec)

            try:
                renewed, _ = await self._change(call_id, decide)
            except NotFound:
                return False
            return renewed

        results = await asyncio.gather(*(renew(c) for c in call_ids))
        return [c for c, renewed in zip(call_ids, results, strict=True) if renewed]

    async def _store_orphan_endings(self, owner: str, limit: int) -> list[tuple[str, str]]:
        with cosmos_db.service_errors():
            candidates = await cosmos_leases.orphan_candidates(
                self._containers, owner, self._now(), limit
            )

        async def end(call_id: str) -> str | None:
            async def decide(change: CallChange) -> str | None:
                return cosmos_leases.end_orphan(change, owner)

            held_by, _ = await self._change(call_id, decide)
            return held_by

        results = await asyncio.gather(*(end(c) for c in candidates))
        return [(c, held_by) for c, held_by in zip(candidates, results, strict=True) if held_by]

    async def _store_call_language(self, call_id: str, lang: str) -> domain.Call:
        async def decide(change: CallChange) -> None:
            cosmos_writes.set_call_language(change, lang)

        call: domain.Call = await self._whole_call_after(call_id, decide)
        return call

    async def _store_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None
    ) -> list[domain.Message]:
        async def decide(change: CallChange) -> list[domain.Message]:
            return await cosmos_writes.append_messages(
                change,
                messages,
                policy_state,
                lambda seq: cosmos_reads.message(self._containers, call_id, seq),
            )

        stored, _ = await self._change(call_id, decide)
        return stored

    async def _store_claim(
        self, call_id: str, updates: Sequence[tuple[str, str]], messages: Sequence[domain.Message]
    ) -> ClaimUpdateResult:
        async def decide(change: CallChange) -> ClaimUpdateResult:
            return await cosmos_writes.update_claim(
                change,
                updates,
                messages,
                lambda seq: cosmos_reads.message(self._containers, call_id, seq),
            )

        result, _ = await self._change(call_id, decide)
        return result

    async def _store_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
        async def decide(change: CallChange) -> domain.Reminder:
            return cosmos_writes.upsert_reminder(change, reminder)

        stored, _ = await self._change(call_id, decide)
        return stored

    async def _store_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str,
        job_id: str,
    ) -> domain.Call:
        async def decide(change: CallChange) -> None:
            cosmos_writes.save_synthesis(change, synthesis, next_action, sms_summary, job_id)

        call: domain.Call = await self._whole_call_after(call_id, decide)
        return call

    # Knowledge base.

    async def _store_documents(self, chunks: Sequence[DocumentChunk]) -> int:
        with cosmos_db.service_errors():
            return await cosmos_knowledge.add(self._containers, chunks, self._now())

    async def _load_documents(self, ids: Sequence[str]) -> Mapping[str, Any]:
        with cosmos_db.service_errors():
            return await cosmos_knowledge.chunks(self._containers, ids)

    async def _load_vector_index(self) -> vectors.VectorIndex:
        # Another replica may have added chunks: reuse the matrix only while the stored
        # generation is the one it was built from.
        generation = self._documents_generation
        with cosmos_db.service_errors():
            state = await cosmos_knowledge.state(self._containers)
            stored = int(state["generation"]) if state else -1
            if self._index is not None and stored == self._index_generation:
                return self._index
            index = vectors.VectorIndex.build(await cosmos_knowledge.vectors_of(self._containers))
        if generation == self._documents_generation:
            self._index, self._index_generation = index, stored
        return index

    async def _load_events(self, call_id: str, after_seq: int, limit: int) -> list[CallEvent]:
        with cosmos_db.service_errors():
            return await cosmos_reads.events_after(self._containers, call_id, after_seq, limit)
