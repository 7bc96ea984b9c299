"""Records of call control over REST: idempotency keys of ``POST /call`` and call webhooks.

:class:`ControlRecords` implements the contract once: it checks the input and calls one
storage hook per operation, which each backend implements in its own dialect
(:mod:`~switchboard_store.sqlite_control`, :mod:`~switchboard_store.postgres_control`,
:mod:`~switchboard_store.cosmos_control`). What may be stored, how a stored key reads
back and when a webhook is due are decided here once.

A call's webhook is a durable ``webhook`` job (:data:`switchboard.jobs.WEBHOOK`), queued
through the job seam in the transaction that completes the call's report: the ending of
a call that was never connected, or the post-call synthesis of one that was. Registering
a webhook for a call whose report is already complete queues it at once. The job id is
``webhook:<call_id>:<attempt>``, so each ending of a call is posted once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import TYPE_CHECKING

from switchboard import domain
from switchboard.call_control import IDEMPOTENCY_TTL_SEC, CallWebhook, IdempotencyRecord
from switchboard.errors import InvalidArgument, NotFound
from switchboard.jobs import post_call_job_id
from switchboard_store import validation

if TYPE_CHECKING:
    from switchboard_store.rows import Row  # rows imports the repository, which imports this

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


def record(stored: Row, fresh: bool) -> IdempotencyRecord:
    """The record of a stored key: a row or an item, ``created_at`` as text or datetime."""
    created_at = stored["created_at"]
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at) if created_at else None
    return IdempotencyRecord(
        client=stored["client"],
        key=stored["key"],
        request_hash=stored["request_hash"],
        call_id=stored["call_id"],
        created_at=created_at,
        fresh=fresh,
    )


def webhook_due(call: Row, post_call_queued: bool) -> bool:
    """Whether a call's webhook is due now that it is set: the call (its ``call_id``,
    ``state``, ``attempt`` and ``synthesis_job``) has ended and its report is complete,
    i.e. it queued no post-call job (it was never connected; ``post_call_queued`` says
    whether the job of this attempt exists) or that job has stored its synthesis."""
    if not domain.CallState(call["state"]).is_terminal:
        return False
    job_id = post_call_job_id(call["call_id"], int(call["attempt"]))
    return not post_call_queued or call["synthesis_job"] == job_id


class ControlRecords(ABC):
    """Idempotency keys and call webhooks; raises :mod:`switchboard.errors` types.

    The public methods check their input and call one storage hook each; a hook gets
    input that is already checked (canonical call ids, the expiry in seconds).
    """

    # The storage hooks: one per operation, each a backend's storage only.

    @abstractmethod
    async def _store_claim(
        self, client: str, key: str, request_hash: str, ttl: float
    ) -> IdempotencyRecord:
        """In one transaction: forgets the key if older than ``ttl`` seconds, then
        inserts it unless present; the record, ``fresh`` when this call inserted it."""

    @abstractmethod
    async def _store_settlement(self, client: str, key: str, call_id: str) -> IdempotencyRecord:
        """Sets the key's call (NotFound for an unknown call or key); the record."""

    @abstractmethod
    async def _store_release(self, client: str, key: str) -> bool:
        """Deletes the key if its call is unset; whether it deleted one."""

    @abstractmethod
    async def _store_webhook(self, webhook: CallWebhook) -> None:
        """In one transaction: the call's webhook upserted (NotFound for an unknown
        call) and, when :func:`webhook_due`, its webhook job queued."""

    @abstractmethod
    async def _load_webhook(self, call_id: str) -> CallWebhook | None: ...

    # The contract, implemented once.

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str, expire_after_sec: float = 0.0
    ) -> IdempotencyRecord:
        """Claims ``key`` for this request (``fresh``), or returns the first request's
        record. A record older than the expiry is forgotten and the key claimed again."""
        ttl = check_claim(client, key, request_hash, expire_after_sec)
        return await self._store_claim(client, key, request_hash, ttl)

    async def settle_idempotency_key(
        self, client: str, key: str, call_id: str
    ) -> IdempotencyRecord:
        """Records the call the key's request placed; NotFound for an unknown key."""
        check_key(client, key)
        return await self._store_settlement(client, key, validation.call_id(call_id))

    async def release_idempotency_key(self, client: str, key: str) -> bool:
        """Forgets the key if it is still unsettled; False when there was nothing to forget."""
        check_key(client, key)
        return await self._store_release(client, key)

    async def set_call_webhook(self, webhook: CallWebhook) -> CallWebhook:
        """Stores (or replaces) the call's webhook; NotFound for an unknown call. Queues its
        delivery at once when the call's report is already complete."""
        checked = check_webhook(webhook)
        await self._store_webhook(checked)
        return checked

    async def get_call_webhook(self, call_id: str) -> CallWebhook:
        """The call's webhook; NotFound when it has none."""
        canonical = validation.call_id(call_id)
        webhook = await self._load_webhook(canonical)
        if webhook is None:
            raise NotFound(f"call {canonical} has no webhook")
        return webhook
