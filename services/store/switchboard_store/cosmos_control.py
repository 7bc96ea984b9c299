"""Idempotency keys and call webhooks on Cosmos DB: the storage hooks of
:class:`~switchboard_store.control_records.ControlRecords` (checks and rules are there).

A key is one item of ``idempotency_keys``, partitioned (and named) by a hash of client
and key: claiming it is a create, so of concurrent claims exactly one is answered 201
and the others 409; forgetting an expired or released key is a delete under the ETag
it was read with. A call's webhook is a field of its call document, so setting it and
the writes that complete the call's report (:mod:`cosmos_writes`) are changes to one
document: :func:`queue_webhook` puts the ``webhook`` job in the outbox of the very
change that completes the report, committed in the same batch.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from azure.cosmos import exceptions
from azure.cosmos.aio import ContainerProxy

from switchboard import domain
from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.errors import NotFound
from switchboard.jobs import WEBHOOK, post_call_job_id, webhook_job_id
from switchboard_store import cosmos_db, cosmos_jobs, cosmos_reads, rows
from switchboard_store.control_records import ControlRecords, record, webhook_due
from switchboard_store.cosmos_calls import CallChange
from switchboard_store.cosmos_db import Containers

T = TypeVar("T")
Item = dict[str, Any]
# The service may purge a key this long after the store stops honouring it (clock skew).
TTL_MARGIN_SEC = 3600


class Changer(Protocol):
    """The repository's change to one call: ``decide`` on a fresh read, committed under
    the call document's ETag (run again after a conflict)."""

    def __call__(
        self, call_id: str, decide: Callable[[CallChange], Awaitable[T]]
    ) -> Awaitable[tuple[T, CallChange]]: ...


def queue_webhook(change: CallChange) -> None:
    """Queues the call's webhook job if it has a webhook and has ended (idempotent)."""
    call = change.call
    if call["webhook"] is None or not domain.CallState(call["state"]).is_terminal:
        return
    cosmos_jobs.queue(change, WEBHOOK, webhook_job_id(change.call_id, int(call["attempt"])))


def _set_webhook(change: CallChange, webhook: CallWebhook) -> None:
    call = change.call
    change.set(
        webhook={"url": webhook.url, "client": webhook.client, "updated_at": rows.stamp(change.now)}
    )
    post_call_job = post_call_job_id(change.call_id, int(call["attempt"]))
    if webhook_due(call, call["post_call_job"] == post_call_job):
        queue_webhook(change)


def key_id(client: str, key: str) -> str:
    """The item id and partition key of a key: a hash, as a key may hold ``/?#\\``."""
    return hashlib.sha256(f"{client} {key}".encode()).hexdigest()


class CosmosControlRecords(ControlRecords):
    """Keys in ``idempotency_keys``; webhooks on call documents, written through ``change``."""

    def __init__(
        self, containers: Containers, change: Changer, now: Callable[[], datetime]
    ) -> None:
        self._containers = containers
        self._change = change
        self._now = now

    @property
    def _keys(self) -> ContainerProxy:
        return self._containers.idempotency_keys

    async def _read_key(self, client: str, key: str) -> Item | None:
        kid = key_id(client, key)
        try:
            item: Item = await self._keys.read_item(kid, partition_key=kid)
        except exceptions.CosmosResourceNotFoundError:
            return None
        return item

    async def _forget(self, item: Item) -> None:
        """Deletes the key as read; a concurrent change or delete wins (the caller reads
        again)."""
        try:
            await self._keys.delete_item(
                item["id"], partition_key=item["key_id"], if_match=item["_etag"]
            )
        except (
            exceptions.CosmosAccessConditionFailedError,
            exceptions.CosmosResourceNotFoundError,
        ):
            pass

    async def _store_claim(
        self, client: str, key: str, request_hash: str, ttl: float
    ) -> IdempotencyRecord:
        kid = key_id(client, key)
        with cosmos_db.service_errors():
            while True:
                now = self._now()
                found = await self._read_key(client, key)
                if found is not None:
                    if rows.parse_stamp_required(found["created_at"]) >= now - timedelta(
                        seconds=ttl
                    ):
                        return record(found, fresh=False)
                    await self._forget(found)  # expired: claimed afresh below
                item = {
                    "id": kid,
                    "key_id": kid,
                    "client": client,
                    "key": key,
                    "request_hash": request_hash,
                    "call_id": "",
                    "created_at": rows.stamp(now),
                    "ttl": math.ceil(ttl) + TTL_MARGIN_SEC,
                }
                try:
                    created = await self._keys.create_item(item)
                except exceptions.CosmosResourceExistsError:
                    continue  # a concurrent claim created it first: read its record
                return record(created, fresh=True)

    async def _store_settlement(self, client: str, key: str, call_id: str) -> IdempotencyRecord:
        with cosmos_db.service_errors():
            await cosmos_reads.call_document(self._containers, call_id)  # NotFound if none
            while True:
                found = await self._read_key(client, key)
                if found is None:
                    raise NotFound("no such idempotency key (it expired or was released)")
                body = {k: v for k, v in found.items() if not k.startswith("_")}
                body["call_id"] = call_id
                try:
                    stored = await self._keys.replace_item(
                        found["id"], body, if_match=found["_etag"]
                    )
                except (
                    exceptions.CosmosAccessConditionFailedError,
                    exceptions.CosmosResourceNotFoundError,
                ):
                    continue
                return record(stored, fresh=False)

    async def _store_release(self, client: str, key: str) -> bool:
        with cosmos_db.service_errors():
            while True:
                found = await self._read_key(client, key)
                if found is None or found["call_id"]:
                    return False
                try:
                    await self._keys.delete_item(
                        found["id"], partition_key=found["key_id"], if_match=found["_etag"]
                    )
                except exceptions.CosmosResourceNotFoundError:
                    return False
                except exceptions.CosmosAccessConditionFailedError:
                    continue  # settled (or claimed afresh) meanwhile: look again
                return True

    async def _store_webhook(self, webhook: CallWebhook) -> None:
        async def decide(change: CallChange) -> None:
            _set_webhook(change, webhook)

        await self._change(webhook.call_id, decide)

    async def _load_webhook(self, call_id: str) -> CallWebhook | None:
        with cosmos_db.service_errors():
            call = await cosmos_reads.call_document(self._containers, call_id)
        if call["webhook"] is None:
            return None
        return CallWebhook(
            call_id=call_id, url=call["webhook"]["url"], client=call["webhook"]["client"]
        )
