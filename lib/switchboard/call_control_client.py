"""A domain-typed client of the Store's call-control RPCs: idempotency keys and webhooks.

It shares the channel of a :class:`~switchboard.store_client.StoreClient` (and its
error mapping), so a service that already talks to the store opens nothing new.
"""

from __future__ import annotations

from typing import Any

import grpc

from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.call_control_wire import record_from_pb, webhook_from_pb, webhook_to_pb
from switchboard.grpc_edge import domain_error
from switchboard.v1 import store_pb2, store_pb2_grpc

DEFAULT_TIMEOUT_SEC = 5.0


class CallControlStore:
    """Idempotency keys and call webhooks in the store; raises domain errors."""

    def __init__(self, channel: grpc.aio.Channel, timeout_sec: float = DEFAULT_TIMEOUT_SEC):
        self._stub = store_pb2_grpc.StoreStub(channel)  # type: ignore[no-untyped-call]
        self._timeout = timeout_sec

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str, expire_after_sec: float = 0.0
    ) -> IdempotencyRecord:
        reply = await self._unary(
            self._stub.ClaimIdempotencyKey,
            store_pb2.ClaimIdempotencyKeyRequest(
                client=client,
                key=key,
                request_hash=request_hash,
                expire_after_sec=expire_after_sec,
            ),
        )
        return record_from_pb(reply)

    async def settle_idempotency_key(
        self, client: str, key: str, call_id: str
    ) -> IdempotencyRecord:
        reply = await self._unary(
            self._stub.SettleIdempotencyKey,
            store_pb2.SettleIdempotencyKeyRequest(client=client, key=key, call_id=call_id),
        )
        return record_from_pb(reply)

    async def release_idempotency_key(self, client: str, key: str) -> bool:
        reply = await self._unary(
            self._stub.ReleaseIdempotencyKey,
            store_pb2.ReleaseIdempotencyKeyRequest(client=client, key=key),
        )
        return bool(reply.released)

    async def set_call_webhook(self, webhook: CallWebhook) -> CallWebhook:
        reply = await self._unary(self._stub.SetCallWebhook, webhook_to_pb(webhook))
        return webhook_from_pb(reply)

    async def get_call_webhook(self, call_id: str) -> CallWebhook:
        reply = await self._unary(
            self._stub.GetCallWebhook, store_pb2.GetCallWebhookRequest(call_id=call_id)
        )
        return webhook_from_pb(reply)

    async def _unary(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, timeout=self._timeout, wait_for_ready=True)
        except grpc.aio.AioRpcError as exc:
            raise domain_error(exc) from exc
