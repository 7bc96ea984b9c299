"""Reads of the Cosmos DB store: point reads and one-partition queries where it matters.

A call by id reads one logical partition of ``calls``. The callback-window lookup reads
one partition of ``calls_by_number`` (the number's), newest first, and then the calls it
names, until one is resumable. Only the operator's listing of every call and the job
and knowledge-base scans fan out across partitions, with queries the gateway serves
without a query plan (no ``ORDER BY``/``TOP``/aggregates across partitions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from azure.cosmos import exceptions

from switchboard import domain
from switchboard.errors import NotFound
from switchboard_store import cosmos_calls, rows
from switchboard_store.cosmos_db import Containers, request_hash
from switchboard_store.repository import CallEvent

Item = dict[str, Any]
_WHOLE_CALL = "SELECT * FROM c WHERE c.type = 'call' OR c.type = 'message'"


async def call_document(containers: Containers, call_id: str) -> Item:
    """The call document (with its ``_etag``); NotFound when there is none."""
    try:
        doc: Item = await containers.calls.read_item(call_id, partition_key=call_id)
    except exceptions.CosmosResourceNotFoundError as exc:
        raise NotFound(f"no call with call_id {call_id}") from exc
    return cosmos_calls.current(doc)


async def message(containers: Containers, call_id: str, seq: int) -> domain.Message:
    item = await containers.calls.read_item(cosmos_calls.message_id(seq), partition_key=call_id)
    return rows.message_from_row(item)


async def whole_call(containers: Containers, call_id: str) -> domain.Call | None:
    """The call with its transcript, from one query of its partition; None if none."""
    found = [
        item async for item in containers.calls.query_items(_WHOLE_CALL, partition_key=call_id)
    ]
    calls = [i for i in found if i["type"] == "call"]
    if not calls:
        return None
    return cosmos_calls.call_from_items(calls[0], [i for i in found if i["type"] == "message"])


async def load_whole_call(containers: Containers, call_id: str) -> domain.Call:
    call = await whole_call(containers, call_id)
    if call is None:
        raise NotFound(f"no call with call_id {call_id}")
    return call


async def _call_summaries(containers: Containers, call_ids: Sequence[str]) -> list[domain.Call]:
    """The calls without messages, in the given order (point reads); an index entry whose
    call was never written is skipped."""

    async def read(call_id: str) -> Item | None:
        try:
            doc: Item = await containers.calls.read_item(call_id, partition_key=call_id)
        except exceptions.CosmosResourceNotFoundError:
            return None
        return doc

    docs = await asyncio.gather(*(read(c) for c in call_ids))
    return [cosmos_calls.call_from_items(d, []) for d in docs if d is not None]


async def list_calls(
    containers: Containers,
    phone_number: str,
    limit: int,
    states: Sequence[domain.CallState] = (),
    offset: int = 0,
) -> tuple[list[domain.Call], int]:
    if phone_number and not states:
        index = containers.calls_by_number
        counted: list[Any] = [
            n
            async for n in index.query_items(
                "SELECT VALUE COUNT(1) FROM c", partition_key=phone_number
            )
        ]  # fmt: skip
        total = int(counted[0])
        # TOP, not OFFSET … LIMIT: the skipped entries are ids only, and a number has few.
        newest = [
            e["call_id"]
            async for e in index.query_items(
                "SELECT TOP @limit c.call_id FROM c ORDER BY c.created_key DESC",
                parameters=[{"name": "@limit", "value": offset + limit}],
                partition_key=phone_number,
            )
        ]
        return await _call_summaries(containers, newest[offset:]), total
    # Every call, or the calls in some states (the live list): an operator's listing, not
    # a call path, and a cross-partition query (the index entries do not know a call's
    # state). The gateway cannot order across partitions, so the ids and creation keys
    # are read and ordered here.
    query = "SELECT c.call_id, c.created_key FROM c WHERE c.type = 'call'"
    parameters: list[dict[str, Any]] = []
    if phone_number:
        query += " AND c.phone_number = @number"
        parameters.append({"name": "@number", "value": phone_number})
    if states:
        query += " AND ARRAY_CONTAINS(@states, c.state)"
        parameters.append({"name": "@states", "value": [s.value for s in states]})
    keys = [
        (e["created_key"], e["call_id"])
        async for e in containers.calls.query_items(query, parameters=parameters)
    ]
    keys.sort(reverse=True)
    page = keys[offset : offset + limit]
    return await _call_summaries(containers, [c for _, c in page]), len(keys)


async def find_open_call(
    containers: Containers, phone_number: str, since: datetime, initiate_json: str | None
) -> domain.Call | None:
    """The newest call of the number created at ``since`` or later that did not fail
    (and has the same request, when given): the number's index partition, newest first."""
    query = "SELECT c.call_id FROM c WHERE c.created_key >= @since"
    parameters: list[dict[str, Any]] = [{"name": "@since", "value": rows.stamp(since)}]
    if initiate_json is not None:
        query += " AND c.request_hash = @hash"
        parameters.append({"name": "@hash", "value": request_hash(initiate_json)})
    entries = containers.calls_by_number.query_items(
        query + " ORDER BY c.created_key DESC",
        parameters=parameters,
        partition_key=phone_number,
        max_item_count=10,
    )
    async for entry in entries:
        call = await whole_call(containers, entry["call_id"])
        if call is not None and call.state is not domain.CallState.FAILED:
            return call
    return None


async def events_after(
    containers: Containers, call_id: str, after_seq: int, limit: int
) -> list[CallEvent]:
    found = [
        rows.decode_event(item)
        async for item in containers.calls.query_items(
            "SELECT TOP @limit * FROM c WHERE c.type = 'event' AND c.seq > @after ORDER BY c.seq",
            parameters=[
                {"name": "@limit", "value": limit},
                {"name": "@after", "value": after_seq},
            ],
            partition_key=call_id,
        )
    ]
    if not found:
        await call_document(containers, call_id)  # NotFound for an unknown call
    return found
