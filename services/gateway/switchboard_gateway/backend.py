"""What the gateway needs from the rest of the system, in domain types.

The HTTP layer depends only on :class:`CallBackend`; production wires in
:class:`~switchboard_gateway.grpc_backend.GrpcCallBackend`, tests an in-memory one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.call_events import CallEvent
from switchboard.domain import Call, CallRequest, CallState
from switchboard.errors import DeadlineExceeded

# The services the readiness probe checks, in the order it reports them.
DEPENDENCIES = ("dialer", "speech", "brain", "store")


class DialTimeout(DeadlineExceeded):
    """The dialer did not confirm in time; the call may still be placed.

    Unlike other backend errors, its message is written for API callers.
    """


@dataclass(frozen=True)
class ServiceCheck:
    """The outcome of one readiness check: ``id`` names the service."""

    id: str
    ok: bool


class CallBackend(Protocol):
    """Places and reads calls; raises :mod:`switchboard.errors` domain errors."""

    async def place_call(self, request: CallRequest) -> Call:
        """Resumes the number's open call or creates one, then dials it."""
        ...

    async def get_call(self, call_id: str) -> Call:
        """The call with its transcript; ``NotFound`` when there is none."""
        ...

    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[CallState] = (),
        offset: int = 0,
    ) -> tuple[list[Call], int]:
        """Newest first after skipping ``offset`` matches, without transcripts, plus the
        total number of matches (``states``: only calls in one of them)."""
        ...

    async def call_events(self, call_id: str) -> list[CallEvent]:
        """What happened to the call so far (states, messages, claim…), oldest first."""
        ...

    async def hang_up(self, call: Call, reason: str) -> bool:
        """Ends (or cancels, while it rings) the live ``call`` (as just read) on the dialer
        replica that runs it; False when no dialer runs it."""
        ...

    async def transfer(self, call: Call, target: str) -> bool:
        """Hands the connected ``call`` (as just read) to ``target`` (E.164), on the dialer
        replica that runs it; False when it is not connected."""
        ...

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str
    ) -> IdempotencyRecord:
        """Claims a client's idempotency key for a request, or the first request's record."""
        ...

    async def settle_idempotency_key(self, client: str, key: str, call_id: str) -> None:
        """Records the call a key's request placed."""
        ...

    async def release_idempotency_key(self, client: str, key: str) -> None:
        """Forgets an unsettled key whose request placed no call."""
        ...

    async def set_call_webhook(self, webhook: CallWebhook) -> None:
        """Where the call's completion report is posted (the store queues the delivery)."""
        ...

    async def readiness(self) -> list[ServiceCheck]:
        """One check per dependency; never raises."""
        ...

    async def close(self) -> None:
        """Releases connections; called once when the app shuts down."""
        ...
