"""An in-memory store with the StoreClient interface and the real store's rules."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.claims import normalise_claim_value
from switchboard.domain import (
    Call,
    CallRequest,
    ClaimField,
    ClaimFieldType,
    Message,
    NextAction,
    Synthesis,
)
from switchboard.errors import InvalidArgument, NotFound

# Tuesday 24 November 2026, 10:00 in New York.
REFERENCE_NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

CLAIM = (
    ClaimField(
        name="incident_datetime",
        type=ClaimFieldType.DATETIME,
        description="When did the incident happen?",
    ),
    ClaimField(name="email", type=ClaimFieldType.EMAIL, description="Your e-mail address"),
    ClaimField(
        name="callback_phone",
        type=ClaimFieldType.PHONE_NUMBER,
        description="A phone number where we can reach you",
    ),
    ClaimField(
        name="description", type=ClaimFieldType.TEXT, description="What happened, in a few words"
    ),
)


def call_request(**changes: object) -> CallRequest:
    values: dict[str, object] = {
        "bot_company": "Contoso Insurance",
        "bot_name": "Amelia",
        "phone_number": "+12125550100",
        "agent_phone_number": "+12125550199",
        "task": "Collect the details of a car insurance claim.",
        "claim": CLAIM,
        "timezone": "America/New_York",
    }
    values.update(changes)
    return CallRequest.model_validate(values)


class InMemoryStore:
    """Implements the calls the brain makes, like the Store service does."""

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.appends: list[tuple[list[Message], str | None]] = []
        self.claim_updates: list[dict[str, str]] = []
        self._seq = 0

    def add_call(self, call: Call) -> Call:
        self.calls[call.call_id] = call
        return call

    def new_call(self, call_id: str = "call-1", **request: object) -> Call:
        return self.add_call(Call(call_id=call_id, initiate=call_request(**request)))

    async def get_call(self, call_id: str) -> Call:
        if call_id not in self.calls:
            raise NotFound(f"call {call_id!r} does not exist")
        return self.calls[call_id].model_copy(deep=True)

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]:
        call = self.calls[call_id]
        self.appends.append(([m.model_copy() for m in messages], policy_state))
        stored = []
        for message in messages:
            existing = next(
                (
                    m
                    for m in call.messages
                    if message.turn_id
                    and (m.turn_id, m.persona) == (message.turn_id, message.persona)
                ),
                None,
            )
            if existing is not None:
                existing.content = message.content
                existing.interrupted = message.interrupted
                stored.append(existing.model_copy())
                continue
            self._seq += 1
            kept = message.model_copy(update={"seq": self._seq, "created_at": REFERENCE_NOW})
            call.messages.append(kept)
            stored.append(kept.model_copy())
        if policy_state is not None:
            call.policy_state = policy_state
        return stored

    async def update_claim(self, call_id: str, updates: dict[str, str]) -> dict[str, str]:
        call = self.calls[call_id]
        normalised = {}
        for name, value in updates.items():
            field = call.initiate.field(name)
            if field is None:
                raise InvalidArgument(f"claim field {name!r} is not in the call's schema")
            normalised[name] = normalise_claim_value(field, value)
        call.claim.update(normalised)
        self.claim_updates.append(normalised)
        return dict(call.claim)

    async def save_synthesis(
        self, call_id: str, synthesis: Synthesis, next_action: NextAction, sms_summary: str
    ) -> Call:
        call = self.calls[call_id]
        call.synthesis, call.next_action, call.sms_summary = synthesis, next_action, sms_summary
        return call.model_copy(deep=True)
