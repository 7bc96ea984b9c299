"""What the brain needs from the store. :class:`switchboard.store_client.StoreClient`
implements it; tests use an in-memory one with the same behaviour."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from switchboard.domain import Call, Message, NextAction, Reminder, Synthesis


class CallStore(Protocol):
    """The store calls the brain makes; failures raise :mod:`switchboard.errors` errors."""

    async def get_call(self, call_id: str) -> Call: ...

    async def append_messages(
        self, call_id: str, messages: list[Message], policy_state: str | None = None
    ) -> list[Message]: ...

    async def update_claim(
        self, call_id: str, updates: dict[str, str], messages: Sequence[Message] = ()
    ) -> dict[str, str]:
        """All updates or none, ``messages`` appended in the same transaction; the claim."""
        ...

    async def save_synthesis(
        self,
        call_id: str,
        synthesis: Synthesis,
        next_action: NextAction,
        sms_summary: str,
        job_id: str = "",
    ) -> Call:
        """With ``job_id``, stored once however often that job runs."""
        ...

    async def upsert_reminder(self, call_id: str, reminder: Reminder) -> Reminder: ...

    async def set_call_language(self, call_id: str, lang: str) -> Call: ...
