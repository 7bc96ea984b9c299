"""What the form policy remembers between turns (stored as the call's ``policy_state``)."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from switchboard.domain import Call, ClaimField


class FormState(BaseModel):
    """The field being asked, failed attempts per field, skipped fields, the last question."""

    field: str | None = None
    retries: dict[str, int] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)
    last_question: str = ""
    last_filled: list[str] = Field(default_factory=list)  # what the last answer stored
    transfer_requested: bool = False
    wrap_up: bool = False  # every field done; "anything else?" was asked
    ended: str = ""  # why the policy ended the call, once it did
    # This leg resumed a stored conversation: the caller is known only by their number
    # (caller ID is no proof), so stored values are named, never read back to them.
    resumed_leg: bool = False
    confirming: bool = False  # the welcome back asked whether to continue; no answer yet

    @classmethod
    def load(cls, raw: str) -> FormState:
        """The stored state; a fresh one when there is none or it belongs to another policy."""
        if not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return cls()

    def dump(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    def next_field(self, call: Call) -> ClaimField | None:
        """The first field neither filled nor skipped."""
        for claim_field in call.initiate.claim:
            if claim_field.name not in call.claim and claim_field.name not in self.skipped:
                return claim_field
        return None

    def skip(self, name: str) -> None:
        if name not in self.skipped:
            self.skipped.append(name)
