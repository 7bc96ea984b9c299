"""The rules of the store's writes, shared by both backends: pure functions, no SQL.

:mod:`~switchboard_store.sqlite_writes` and :mod:`~switchboard_store.postgres_writes`
read rows and write them in their own dialect; what a change means (which state may
follow which, what a claim update applies, when a message is a resend, which chunk
fits the knowledge base) is decided here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.claims import normalise_claim_value
from switchboard.errors import FailedPrecondition, InvalidArgument
from switchboard.jobs import post_call_job_id
from switchboard_store import rows, vectors
from switchboard_store.repository import ClaimChange, ClaimUpdateResult, DocumentChunk
from switchboard_store.rows import Row
from switchboard_store.validation import MAX_CHUNK_CONTENT_BYTES, MAX_SHORT_TEXT, text, utf8_bytes

# A call that ENDED or FAILED is only ever left by dialling it again: a resume.
RESUME_STATES = frozenset(
    {domain.CallState.DIALING, domain.CallState.RINGING, domain.CallState.IN_PROGRESS}
)
# A call that ends from one of these was connected: its ending queues the post-call job.
_CONNECTED_STATES = frozenset({domain.CallState.IN_PROGRESS, domain.CallState.TRANSFERRING})
# Entering these states records what happened on the line in the transcript.
_LINE_ACTIONS = {
    domain.CallState.IN_PROGRESS: domain.MessageAction.CALL,
    domain.CallState.ENDED: domain.MessageAction.HANGUP,
}


@dataclass(frozen=True)
class LeaseWrite:
    """The call's lease after a write: its holder ('' for none), when it expires and where
    gateways reach the holder ('' for ``services.dialer``)."""

    owner: str
    expires_at: datetime | None
    address: str = ""


RELEASED = LeaseWrite(owner="", expires_at=None)


@dataclass(frozen=True)
class StateChange:
    """What setting a call's state writes, decided from the call's stored row."""

    changed: bool
    reason: str  # the state_reason to store
    added_attempts: int  # 1 when a terminal call is dialled again
    line: domain.Message | None  # the transcript line this state adds, if it changed
    post_call_job_id: str | None  # the job to queue: a connected call ended
    lease: LeaseWrite | None = None  # the lease to write; None leaves it as it is


def state_change(
    call_id: str,
    row: Row,
    state: domain.CallState,
    reason: str,
    lease: CallLease | None = None,
    now: datetime | None = None,
) -> StateChange:
    """The change from the call's ``row`` to ``state`` (leased to ``lease``'s owner at
    ``now`` when given); FailedPrecondition if not allowed."""
    old = domain.CallState(row["state"])
    changed = state != old
    if changed and old.is_terminal and state not in RESUME_STATES:
        raise FailedPrecondition(
            f"the call is {old.value}; it can only be resumed (dialing, ringing or in_progress)"
        )
    line_action = _LINE_ACTIONS.get(state) if changed else None
    ends_connected = changed and state is domain.CallState.ENDED and old in _CONNECTED_STATES
    return StateChange(
        changed=changed,
        reason=reason if (changed or reason) else row["state_reason"],
        added_attempts=1 if changed and old.is_terminal else 0,
        line=(
            domain.Message(persona=domain.Persona.HUMAN, action=line_action, lang=row["lang"])
            if line_action is not None
            else None
        ),
        post_call_job_id=post_call_job_id(call_id, row["attempt"]) if ends_connected else None,
        lease=_lease_after(call_id, row, state, lease, now),
    )


# Dialer leases: a live call is leased to the replica that runs it; a finished one to nobody.


def lease_expired(row: Row, now: datetime) -> bool:
    """Whether the call's lease, if any, ran out at ``now``."""
    expires_at = rows.parse_stamp(row["lease_expires_at"])
    return expires_at is None or expires_at <= now


def may_lease(row: Row, owner: str, now: datetime) -> bool:
    """Whether ``owner`` may hold the call's lease: it holds it already, or nobody does
    (never leased, released, or expired: the replica that held it is gone)."""
    return row["lease_owner"] in ("", owner) or lease_expired(row, now)


def renewed_lease(row: Row, owner: str, lease_sec: float, now: datetime) -> LeaseWrite | None:
    """The renewed lease of a call ``owner`` still runs; None when the call is over or
    another replica holds it (the call is lost to ``owner``)."""
    if domain.CallState(row["state"]).is_terminal or not may_lease(row, owner, now):
        return None
    # A renewal names no address: the holder's stays; a lease taken over has none.
    address = row["lease_address"] if row["lease_owner"] == owner else ""
    return _held_by(owner, lease_sec, now, address)


def orphaned(row: Row, owner: str, now: datetime) -> bool:
    """Whether the call is unfinished and its dialer replica gone: leased by ``owner``
    (that replica restarted, so none of its calls lives on) or, without ``owner``, its
    lease expired."""
    if domain.CallState(row["state"]).is_terminal or not row["lease_owner"]:
        return False
    return row["lease_owner"] == owner if owner else lease_expired(row, now)


def _lease_after(
    call_id: str,
    row: Row,
    state: domain.CallState,
    lease: CallLease | None,
    now: datetime | None,
) -> LeaseWrite | None:
    if state.is_terminal:
        return RELEASED  # nobody runs a finished call: a resume leases it afresh
    if lease is None or now is None:
        return None
    if not may_lease(row, lease.owner, now):
        raise FailedPrecondition(
            f"call {call_id} is live on another dialer replica, whose lease has not expired; "
            "hang it up there first"
        )
    return _held_by(lease.owner, lease.lease_sec, now, lease.address)


def _held_by(owner: str, lease_sec: float, now: datetime, address: str) -> LeaseWrite:
    return LeaseWrite(owner=owner, expires_at=now + timedelta(seconds=lease_sec), address=address)


def replacement(existing: domain.Message, msg: domain.Message) -> domain.Message | None:
    """``existing`` with the content and ``interrupted`` of ``msg``, its turn's new version;
    None when ``msg`` is a plain resend (nothing changes, nobody is woken)."""
    if existing.content == msg.content and existing.interrupted == msg.interrupted:
        return None
    return existing.model_copy(update={"content": msg.content, "interrupted": msg.interrupted})


def claim_changes(initiate_json: str, updates: Sequence[tuple[str, str]]) -> list[ClaimChange]:
    """The normalised ``updates``, every one checked against the call's claim schema
    before any is written: all or nothing."""
    schema = domain.CallRequest.model_validate_json(initiate_json)
    known = {f.name: f for f in schema.claim}
    applied: list[ClaimChange] = []
    for name, value in updates:
        claim_field = known.get(name)
        if claim_field is None:
            raise InvalidArgument(
                f"claim field {name!r} is not in this call's claim; known fields: "
                f"{', '.join(known) or 'none'}"
            )
        applied.append(ClaimChange(name, normalise_claim_value(claim_field, value)))
    return applied


def merge_claim(
    claim: dict[str, str], applied: Sequence[ClaimChange]
) -> tuple[ClaimUpdateResult, list[ClaimChange]]:
    """The claim after ``applied``, and the changes to write: those that change a value."""
    merged = dict(claim)
    writes: list[ClaimChange] = []
    for change in applied:
        if merged.get(change.field) != change.value:
            merged[change.field] = change.value
            writes.append(change)
    return ClaimUpdateResult(claim=dict(sorted(merged.items())), applied=list(applied)), writes


def synthesis_stored_by(row: Row, job_id: str) -> bool:
    """Whether job ``job_id`` stored this call's synthesis already: it ran twice (a lease
    expired under a slow worker, or its completion was lost); the first write stands."""
    return bool(job_id) and row["synthesis_job"] == job_id


def checked_chunk(
    index: int, chunk: DocumentChunk, dimension: int | None
) -> tuple[vectors.Matrix, int]:
    """The chunk's normalised embedding and the knowledge base's dimension with it;
    InvalidArgument if a field is too long or the dimension is not the stored one."""
    what = f"chunks[{index}]"
    text(chunk.id, f"{what}.id", MAX_SHORT_TEXT, required=True)
    text(chunk.source, f"{what}.source", 1000)
    text(chunk.title, f"{what}.title", 1000)
    text(chunk.content, f"{what}.content", MAX_CHUNK_CONTENT_BYTES, required=True)
    utf8_bytes(chunk.content, f"{what}.content", MAX_CHUNK_CONTENT_BYTES)
    vector = vectors.normalised(chunk.embedding, f"{what}.embedding")
    if dimension is None:
        return vector, len(vector)
    if len(vector) != dimension:
        raise InvalidArgument(
            f"{what}.embedding has {len(vector)} dimensions; the knowledge base uses {dimension}"
        )
    return vector, dimension


def added_count(chunks: Sequence[DocumentChunk]) -> int:
    """How many chunks an add stored: a repeated id counts once."""
    return len({c.id for c in chunks})
