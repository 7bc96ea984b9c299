"""The store's repository: what a database backend must offer, in domain types.

``CallRepository`` is the one base class of the store capability; ``SqliteCallRepository``
is the embedded default and ``PostgresCallRepository`` the server one; both share their logic
through :class:`~switchboard_store.stored_repository.StoredCallRepository`. Watching a call is
implemented here once, on top of :meth:`CallRepository.events_after` and an
:class:`~switchboard_store.notifier.EventNotifier` that every backend feeds after a commit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from switchboard import domain
from switchboard.call_events import CallEvent, ClaimChange, EventPayload
from switchboard.call_leases import CallLease
from switchboard_store import validation
from switchboard_store.control_records import ControlRecords
from switchboard_store.job_queue import JobQueue
from switchboard_store.notifier import EventNotifier

__all__ = ["CallEvent", "CallRepository", "ClaimChange", "EventPayload"]

# Events read from the database per round trip while a watcher catches up.
EVENT_PAGE = 500


@dataclass(frozen=True)
class DocumentChunk:
    """A knowledge-base chunk with its embedding, as a client adds it."""

    id: str
    content: str
    embedding: Sequence[float]
    source: str = ""
    title: str = ""


@dataclass(frozen=True)
class ClaimUpdateResult:
    """The whole claim after an update, and the normalised values that were applied."""

    claim: dict[str, str]
    applied: list[ClaimChange] = field(default_factory=list)


class CallRepository(ABC):
    """Calls, their transcript, claim, reminders and outcome; knowledge chunks; call events.

    Every method validates its input and raises :mod:`switchboard.errors` types
    (``InvalidArgument``, ``NotFound``, ``FailedPrecondition``). A method that returns
    has made its change durable.
    """

    def __init__(self) -> None:
        self.notifier = EventNotifier()

    @property
    @abstractmethod
    def jobs(self) -> JobQueue:
        """The durable jobs this backend queues with its changes (post-call work)."""

    @property
    @abstractmethod
    def control(self) -> ControlRecords:
        """Idempotency keys and call webhooks (call control over REST)."""

    @abstractmethod
    async def create_call(
        self, initiate: domain.CallRequest, direction: domain.CallDirection
    ) -> domain.Call: ...

    @abstractmethod
    async def get_call(self, call_id: str) -> domain.Call: ...

    @abstractmethod
    async def list_calls(
        self,
        phone_number: str = "",
        limit: int = 100,
        states: Sequence[domain.CallState] = (),
        offset: int = 0,
    ) -> tuple[list[domain.Call], int]:
        """Newest first, without messages, skipping the ``offset`` newest matches; also
        the total count matching the filter (``states``: only calls in one of them;
        empty for every state)."""

    @abstractmethod
    async def find_open_call(
        self,
        phone_number: str,
        within_hours: float,
        initiate: domain.CallRequest | None = None,
    ) -> domain.Call | None:
        """The newest resumable call of a number, or None. Reads only."""

    @abstractmethod
    async def set_call_state(
        self,
        call_id: str,
        state: domain.CallState,
        reason: str = "",
        lease: CallLease | None = None,
    ) -> domain.Call:
        """The call's state; with ``lease`` and a live state, the call is leased to that
        dialer replica in the same write (FailedPrecondition while another replica's
        lease has not expired). An ended or failed call's lease is released."""

    @abstractmethod
    async def renew_call_leases(
        self, owner: str, call_ids: Sequence[str], lease_sec: float
    ) -> list[str]:
        """Renews ``owner``'s leases on the unfinished calls among ``call_ids`` (taking
        free or expired ones); returns the ids renewed, the others are lost to it."""

    @abstractmethod
    async def end_orphaned_calls(self, owner: str = "", limit: int = 100) -> list[str]:
        """Ends as ``ended`` / ``line_dropped`` the unfinished calls leased by ``owner`` or,
        without ``owner``, those whose lease expired; each ending is the same write as
        :meth:`set_call_state`'s (a connected call queues its post-call job once).
        Returns the ids ended, at most ``limit``."""

    @abstractmethod
    async def set_call_language(self, call_id: str, lang: str) -> domain.Call:
        """Sets the call's current language only; its state and attempt stay as they are."""

    @abstractmethod
    async def append_messages(
        self, call_id: str, messages: Sequence[domain.Message], policy_state: str | None = None
    ) -> list[domain.Message]: ...

    @abstractmethod
    async def update_claim(
        self,
        call_id: str,
        updates: Sequence[tuple[str, str]],
        messages: Sequence[domain.Message] = (),
    ) -> ClaimUpdateResult:
        """Applies every update or none; ``messages`` (the words that gave the values)
        are appended as :meth:`append_messages` does, in the same transaction."""

    @abstractmethod
    async def upsert_reminder(self, call_id: str, reminder: domain.Reminder) -> domain.Reminder: ...

    @abstractmethod
    async def save_synthesis(
        self,
        call_id: str,
        synthesis: domain.Synthesis,
        next_action: domain.NextAction,
        sms_summary: str = "",
        job_id: str = "",
    ) -> domain.Call:
        """Stores the post-call report; written by job ``job_id``, it is stored once
        however often that job runs (the first write stands)."""

    @abstractmethod
    async def add_documents(self, chunks: Sequence[DocumentChunk]) -> int: ...

    @abstractmethod
    async def search_documents(
        self, embedding: Sequence[float], top_k: int = 5, min_score: float = 0.0
    ) -> list[domain.ChunkHit]: ...

    @abstractmethod
    async def events_after(
        self, call_id: str, after_seq: int, limit: int = EVENT_PAGE
    ) -> list[CallEvent]:
        """Stored events of a call with ``seq > after_seq``, oldest first; NotFound if no call."""

    @abstractmethod
    async def close(self) -> None:
        """Ends watchers and releases the database. Idempotent."""

    async def watch_call(self, call_id: str, after_seq: int = 0) -> AsyncGenerator[CallEvent]:
        """Replays the stored events after ``after_seq``, then yields new ones as they commit.

        Ends when the repository closes; the caller ends it early by closing the iterator
        (or by its task being cancelled).
        """
        call_id = validation.call_id(call_id)
        last = max(after_seq, 0)
        while True:
            events = await self.events_after(call_id, last)
            for event in events:
                last = event.seq
                yield event
            if len(events) == EVENT_PAGE:
                continue
            if not await self.notifier.wait_beyond(call_id, last):
                return
