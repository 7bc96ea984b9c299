"""Records of call control over REST: idempotency keys of ``POST /call`` and call webhooks.

Each backend implements :class:`ControlRecords` in its own dialect
(:mod:`~switchboard_store.sqlite_control`, :mod:`~switchboard_store.postgres_control`);
the checks of what may be stored and when a webhook is due are decided here once.

A call's webhook is a durable ``webhook`` job (:data:`switchboard.jobs.WEBHOOK`), queued
through the job seam in the transaction that completes the call's report: the ending of
a call that was never connected, or the post-call synthesis of one that was. Registering
a webhook for a call whose report is already complete queues it at once. The job id is
``webhook:<call_id>:<attempt>``, so each ending of a call is posted once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from switchboard.call_control import IDEMPOTENCY_TTL_SEC, CallWebhook, IdempotencyRecord
from switchboard.errors import InvalidArgument
from switchboard.jobs import post_call_job_id
from switchboard_store import validation

MAX_CLIENT = 64
MAX_KEY = 255
MAX_HASH = 128
MAX_URL = 2048
# RFC 9110 token-ish: printable ASCII without spaces, what an HTTP header value carries.
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


def check_key(client: str, key: str) -> None:
    """InvalidArgument unless ``client`` and ``key`` are short printable ASCII."""
    for what, value, limit in (("client", client, MAX_CLIENT), ("key", key, MAX_KEY)):
        validation.text(value, what, limit, required=True)
        if not _PRINTABLE.match(value):
            raise InvalidArgument(f"{what} must be printable ASCII without spaces")


def check_claim(client: str, key: str, request_hash: str, expire_after_sec: float) -> float:
    """The checked expiry (the default when 0); InvalidArgument for bad input."""
    check_key(client, key)
    validation.text(request_hash, "request_hash", MAX_HASH, required=True)
    if expire_after_sec < 0 or expire_after_sec != expire_after_sec:
        raise InvalidArgument("expire_after_sec must be 0 (the default) or more")
    return expire_after_sec or IDEMPOTENCY_TTL_SEC


def check_webhook(webhook: CallWebhook) -> CallWebhook:
    """The webhook with a canonical call id; InvalidArgument for a bad URL or client.

    Which hosts a URL may name is the gateway's policy; the store only refuses what
    could never be delivered.
    """
    validation.text(webhook.url, "url", MAX_URL, required=True)
    if not webhook.url.startswith(("https://", "http://")):
        raise InvalidArgument("url must be an http(s) URL")
    check_key(webhook.client, "-")
    return CallWebhook(
        call_id=validation.call_id(webhook.call_id), url=webhook.url, client=webhook.client
    )


def report_complete(call_id: str, attempt: int, post_call_queued: bool, synthesis_job: str) -> bool:
    """Whether an ended call's report is complete: it queued no post-call job (it was
    never connected), or that job has stored its synthesis."""
    job_id = post_call_job_id(call_id, attempt)
    return not post_call_queued or synthesis_job == job_id


class ControlRecords(ABC):
    """Idempotency keys and call webhooks; raises :mod:`switchboard.errors` types."""

    @abstractmethod
    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str, expire_after_sec: float = 0.0
    ) -> IdempotencyRecord:
        """Claims ``key`` for this request (``fresh``), or returns the first request's
        record. A record older than the expiry is forgotten and the key claimed again."""

    @abstractmethod
    async def settle_idempotency_key(
        self, client: str, key: str, call_id: str
    ) -> IdempotencyRecord:
        """Records the call the key's request placed; NotFound for an unknown key."""

    @abstractmethod
    async def release_idempotency_key(self, client: str, key: str) -> bool:
        """Forgets the key if it is still unsettled; False when there was nothing to forget."""

    @abstractmethod
    async def set_call_webhook(self, webhook: CallWebhook) -> CallWebhook:
        """Stores (or replaces) the call's webhook; NotFound for an unknown call. Queues its
        delivery at once when the call's report is already complete."""

    @abstractmethod
    async def get_call_webhook(self, call_id: str) -> CallWebhook:
        """The call's webhook; NotFound when it has none."""
