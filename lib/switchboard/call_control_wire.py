"""Idempotency records and call webhooks to and from the Store's wire messages."""

from __future__ import annotations

from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.convert import from_ts, ts
from switchboard.v1 import store_pb2


def record_to_pb(record: IdempotencyRecord) -> store_pb2.IdempotencyRecord:
    return store_pb2.IdempotencyRecord(
        client=record.client,
        key=record.key,
        request_hash=record.request_hash,
        call_id=record.call_id,
        created_at=ts(record.created_at),
        fresh=record.fresh,
    )


def record_from_pb(msg: store_pb2.IdempotencyRecord) -> IdempotencyRecord:
    return IdempotencyRecord(
        client=msg.client,
        key=msg.key,
        request_hash=msg.request_hash,
        call_id=msg.call_id,
        created_at=from_ts(msg, "created_at"),
        fresh=msg.fresh,
    )


def webhook_to_pb(webhook: CallWebhook) -> store_pb2.CallWebhook:
    return store_pb2.CallWebhook(call_id=webhook.call_id, url=webhook.url, client=webhook.client)


def webhook_from_pb(msg: store_pb2.CallWebhook) -> CallWebhook:
    return CallWebhook(call_id=msg.call_id, url=msg.url, client=msg.client)
