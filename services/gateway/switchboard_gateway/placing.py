"""Placing a call from ``POST /call``: the ``Idempotency-Key`` and the ``callback_url``.

With an ``Idempotency-Key`` header, the store records (client, key) before the dialer
is asked, in one atomic claim: of concurrent or retried requests with the same key,
exactly one dials. A retry of a request that placed its call gets that call back (200,
``Idempotent-Replayed: true``); one sent while the first is still dialling gets 409;
the same key with another body gets 422. A key whose request failed before anything
was dialled is released, so it can be retried; one whose dial may have happened (the
dialer timed out) is kept, so it never dials twice. Keys are remembered 24 hours.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from switchboard.call_control import CallWebhook
from switchboard.domain import Call
from switchboard.errors import SwitchboardError
from switchboard_gateway.backend import CallBackend, DialTimeout
from switchboard_gateway.problems import RETRY_AFTER_SEC, ApiError
from switchboard_gateway.request_model import CallInitiate
from switchboard_gateway.webhook_targets import TargetRefused, check_url

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Placed:
    """The call a request placed, or the call of the first request with its key."""

    call: Call
    replayed: bool = False


def request_hash(body: CallInitiate) -> str:
    """The digest of a validated body: equal bodies (after normalisation) hash equal."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def checked_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY.match(value):
        raise ApiError(
            422,
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable ASCII characters without "
            "spaces, e.g. a UUID",
        )
    return value


def checked_callback(body: CallInitiate, allow_hosts: list[str]) -> str | None:
    if body.callback_url is None:
        return None
    try:
        return check_url(body.callback_url, allow_hosts)
    except TargetRefused as exc:
        raise ApiError(422, f"callback_url {exc}") from exc


async def place(
    calls: CallBackend, body: CallInitiate, client: str, key: str | None, allow_hosts: list[str]
) -> Placed:
    """Places (or replays) the call and registers its webhook; ApiError / domain errors."""
    callback = checked_callback(body, allow_hosts)
    key = checked_key(key)
    if key is None:
        placed = Placed(await calls.place_call(body.to_domain()))
    else:
        placed = await _place_once(calls, body, client, key)
    if callback is not None:
        # Also on a replay: a retry after a failed registration repairs it.
        await calls.set_call_webhook(CallWebhook(placed.call.call_id, callback, client))
    return placed


async def _place_once(calls: CallBackend, body: CallInitiate, client: str, key: str) -> Placed:
    digest = request_hash(body)
    record = await calls.claim_idempotency_key(client, key, digest)
    if not record.fresh:
        if record.request_hash != digest:
            raise ApiError(
                422,
                f"this {IDEMPOTENCY_HEADER} was used with a different request body; "
                "use a new key for a new call",
            )
        if not record.call_id:
            raise ApiError(
                409,
                f"the first request with this {IDEMPOTENCY_HEADER} is still being processed "
                "(or its outcome is unknown); retry later or see GET /call?phone_number=",
                headers={"Retry-After": RETRY_AFTER_SEC},
            )
        return Placed(await calls.get_call(record.call_id), replayed=True)
    try:
        call = await calls.place_call(body.to_domain())
    except DialTimeout:
        raise  # it may have been dialled: the key stays taken
    except SwitchboardError:
        await _release(calls, client, key)
        raise
    try:
        await calls.settle_idempotency_key(client, key, call.call_id)
    except SwitchboardError as exc:
        # The call is placed and answered; a retry with this key gets 409, never a second dial.
        log.warning(
            "idempotency key not settled", extra={"call_id": call.call_id, "error": exc.message}
        )
    return Placed(call)


async def _release(calls: CallBackend, client: str, key: str) -> None:
    try:
        await calls.release_idempotency_key(client, key)
    except SwitchboardError as exc:
        log.warning("idempotency key not released", extra={"error": exc.message})
