"""What the dialer needs from the services it calls; tests plug fakes into these."""

from __future__ import annotations

from typing import Protocol

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.converse import ConverseRequest, ConverseResponse
from switchboard.media import ExpectedAnswer
from switchboard.speech import (
    ListenConfig,
    ListenResponse,
    SpeakConfig,
    SpeakRequest,
    SpeakResponse,
)


class CallStore(Protocol):
    """The part of :class:`switchboard.store_client.StoreClient` the dialer uses."""

    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call: ...

    async def get_call(self, call_id: str) -> domain.Call: ...

    async def find_open_call(
        self, phone_number: str, within_hours: float, initiate: domain.CallRequest | None = None
    ) -> domain.Call | None: ...

    async def set_call_state(
        self,
        call_id: str,
        state: domain.CallState,
        reason: str = "",
        lease: CallLease | None = None,
    ) -> domain.Call: ...

    async def renew_call_leases(
        self, owner: str, call_ids: list[str], lease_sec: float
    ) -> list[str]: ...

    async def end_orphaned_calls(self, owner: str = "", limit: int = 100) -> list[str]: ...

    async def append_messages(
        self, call_id: str, messages: list[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]: ...


class ConverseStream(Protocol):
    """One open ``Brain.Converse`` stream. Errors are domain errors (``Unavailable`` …)."""

    async def send(self, request: ConverseRequest) -> None: ...

    async def receive(self) -> ConverseResponse | None:
        """The next event; None when the brain closed the stream."""
        ...

    async def close(self) -> None: ...


class BrainPort(Protocol):
    """The brain, as the dialer sees it."""

    async def converse(self) -> ConverseStream: ...


class ListenStream(Protocol):
    """One open ``Speech.Listen`` stream. Errors are domain errors (``Unavailable`` …)."""

    async def send_frame(self, pcm: bytes) -> None:
        """One message of caller audio: one or more whole 20 ms frames, in order."""
        ...

    async def set_lang(self, lang: str) -> None: ...

    async def expect(self, answer: ExpectedAnswer) -> None: ...

    async def receive(self) -> ListenResponse | None:
        """The next event; None when the service closed the stream."""
        ...

    async def close(self) -> None: ...


class SpeakStream(Protocol):
    """One open ``Speech.Speak`` stream."""

    async def send(self, request: SpeakRequest) -> None: ...

    async def receive(self) -> SpeakResponse | None: ...

    async def close(self) -> None: ...


class SpeechPort(Protocol):
    """The speech service, as the dialer sees it."""

    async def listen(self, config: ListenConfig) -> ListenStream: ...

    async def speak(self, config: SpeakConfig) -> SpeakStream: ...
