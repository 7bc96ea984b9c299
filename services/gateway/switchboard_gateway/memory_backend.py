"""An in-memory :class:`CallBackend` for tests and for trying the API without the services."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from switchboard.call_control import CallWebhook, IdempotencyRecord
from switchboard.call_events import CallEvent
from switchboard.domain import Call, CallRequest, CallState
from switchboard.errors import NotFound
from switchboard_gateway.backend import DEPENDENCIES, ServiceCheck


class InMemoryCallBackend:
    """Keeps calls in a dict. ``fail_with`` makes every call raise that error (domain or not)."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.placed: list[CallRequest] = []
        self.healthy: dict[str, bool] = dict.fromkeys(DEPENDENCIES, True)
        self.fail_with: Exception | None = None
        self.closed = False
        self.keys: dict[tuple[str, str], IdempotencyRecord] = {}
        self.webhooks: dict[str, CallWebhook] = {}
        self.transfers: list[tuple[str, str]] = []
        self.events: dict[str, list[CallEvent]] = {}  # what tests say happened to a call
        self._clock = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    def add(self, call: Call) -> Call:
        """Stores ``call`` as it is (for tests that need a finished call)."""
        self.calls[call.call_id] = call
        return call

    def _now(self) -> datetime:
        # Strictly increasing, so "newest first" is well defined.
        self._clock += timedelta(seconds=1)
        return self._clock

    def _raise_if_failing(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    async def place_call(self, request: CallRequest) -> Call:
        self._raise_if_failing()
        self.placed.append(request)
        now = self._now()
        call = Call(
            call_id=str(uuid.uuid4()),
            initiate=request,
            state=CallState.DIALING,
            created_at=now,
            updated_at=now,
            lang=request.lang,
            attempt=1,
        )
        return self.add(call)

    async def get_call(self, call_id: str) -> Call:
        self._raise_if_failing()
        if call_id not in self.calls:
            raise NotFound(f"no call {call_id}")
        return self.calls[call_id]

    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[CallState] = (),
        offset: int = 0,
    ) -> tuple[list[Call], int]:
        self._raise_if_failing()
        matches = [
            c
            for c in self.calls.values()
            if (not phone_number or c.initiate.phone_number == phone_number)
            and (not states or c.state in states)
        ]
        matches.sort(key=lambda c: c.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        page = matches[offset : offset + limit]
        return [c.model_copy(update={"messages": []}) for c in page], len(matches)

    async def call_events(self, call_id: str) -> list[CallEvent]:
        self._raise_if_failing()
        if call_id not in self.calls:
            raise NotFound(f"no call {call_id}")
        return list(self.events.get(call_id, []))

    async def hang_up(self, call: Call, reason: str) -> bool:
        """A call that is not over ends at once (a dialer does it a moment later)."""
        self._raise_if_failing()
        stored = self.calls.get(call.call_id)
        if stored is None or stored.state.is_terminal:
            return False
        self.add(stored.model_copy(update={"state": CallState.ENDED, "state_reason": reason}))
        return True

    async def transfer(self, call: Call, target: str) -> bool:
        self._raise_if_failing()
        stored = self.calls.get(call.call_id)
        if stored is None or stored.state is not CallState.IN_PROGRESS:
            return False
        self.transfers.append((call.call_id, target))
        self.add(stored.model_copy(update={"state": CallState.TRANSFERRING}))
        return True

    async def claim_idempotency_key(
        self, client: str, key: str, request_hash: str
    ) -> IdempotencyRecord:
        self._raise_if_failing()
        found = self.keys.get((client, key))
        if found is not None:
            return found
        self.keys[(client, key)] = IdempotencyRecord(client, key, request_hash)
        return IdempotencyRecord(client, key, request_hash, fresh=True)

    async def settle_idempotency_key(self, client: str, key: str, call_id: str) -> None:
        record = self.keys[(client, key)]
        self.keys[(client, key)] = IdempotencyRecord(client, key, record.request_hash, call_id)

    async def release_idempotency_key(self, client: str, key: str) -> None:
        if (client, key) in self.keys and not self.keys[(client, key)].call_id:
            del self.keys[(client, key)]

    async def set_call_webhook(self, webhook: CallWebhook) -> None:
        self._raise_if_failing()
        self.webhooks[webhook.call_id] = webhook

    async def readiness(self) -> list[ServiceCheck]:
        return [ServiceCheck(name, self.healthy[name]) for name in DEPENDENCIES]

    async def close(self) -> None:
        self.closed = True
