"""Changes to the SQLite store: plain functions of a :class:`Transaction`, run on the writer.

Each change writes its call events in the same transaction, so a watcher replaying
events sees exactly what was committed, in commit order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.jobs import POST_CALL
from switchboard_store import rows, sqlite_control, sqlite_jobs, sqlite_reads, vectors, write_rules
from switchboard_store.repository import ClaimUpdateResult, DocumentChunk, EventPayload
from switchboard_store.validation import canonical_json


class Transaction:
    """A write in progress: its connection, the time it happens at, the events it added."""

    def __init__(self, conn: sqlite3.Connection, now: datetime, traceparent: str = "") -> None:
        self.conn = conn
        self.now = rows.stamp(now)
        # The trace of the request that writes (read on the loop: the writer thread has none).
        self.traceparent = traceparent
        self.latest_events: dict[str, int] = {}

    def add_event(self, call_id: str, payload: EventPayload) -> int:
        seq: int = self.conn.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM call_events WHERE call_id = ?", (call_id,)
        ).fetchone()[0]
        kind, data = rows.encode_event(payload)
        self.conn.execute(
            "INSERT INTO call_events (call_id, seq, at, kind, payload_json) VALUES (?, ?, ?, ?, ?)",
            (call_id, seq, self.now, kind, data),
        )
        self.latest_events[call_id] = seq
        return seq

    def touch(self, call_id: str, interaction: bool = False) -> None:
        """Moves the call's ``updated_at`` (and ``last_interaction_at``) to now."""
        self.conn.execute(
            "UPDATE calls SET updated_at = ?,"
            " last_interaction_at = CASE WHEN ? THEN ? ELSE last_interaction_at END"
            " WHERE call_id = ?",
            (self.now, interaction, self.now, call_id),
        )


def insert_call(
    tx: Transaction, call_id: str, initiate: domain.CallRequest, direction: domain.CallDirection
) -> domain.Call:
    tx.conn.execute(
        "INSERT INTO calls (call_id, created_at, updated_at, direction, state, phone_number,"
        " initiate_json, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
        (
            call_id,
            tx.now,
            tx.now,
            direction.value,
            domain.CallState.CREATED.value,
            initiate.phone_number,
            canonical_json(initiate),
        ),
    )
    tx.add_event(call_id, domain.CallState.CREATED)
    return sqlite_reads.load_call(tx.conn, call_id)


def set_call_state(
    tx: Transaction,
    call_id: str,
    state: domain.CallState,
    reason: str,
    lease: CallLease | None = None,
) -> domain.Call:
    change = write_rules.state_change(
        call_id,
        sqlite_reads.call_row(tx.conn, call_id),
        state,
        reason,
        lease,
        rows.parse_stamp_required(tx.now),
    )
    tx.conn.execute(
        "UPDATE calls SET state = ?, state_reason = ?, attempt = attempt + ? WHERE call_id = ?",
        (state.value, change.reason, change.added_attempts, call_id),
    )
    if change.lease is not None:
        write_lease(tx, call_id, change.lease)
    tx.touch(call_id, interaction=True)
    if change.changed:
        tx.add_event(call_id, state)
        if change.line is not None:
            _insert_message(tx, call_id, change.line)
        if change.post_call_job_id is not None:
            # The outbox: the job commits with the ending, or neither does.
            sqlite_jobs.queue_job(tx, POST_CALL, call_id, change.post_call_job_id)
        elif state.is_terminal:
            # Never connected: its report is complete now, so its webhook is due.
            sqlite_control.queue_webhook(tx, call_id)
    return sqlite_reads.load_call(tx.conn, call_id)


def write_lease(tx: Transaction, call_id: str, lease: write_rules.LeaseWrite) -> None:
    tx.conn.execute(
        "UPDATE calls SET lease_owner = ?, lease_expires_at = ?, lease_address = ?"
        " WHERE call_id = ?",
        (lease.owner, rows.stamp_or_none(lease.expires_at), lease.address, call_id),
    )


def set_call_language(tx: Transaction, call_id: str, lang: str) -> domain.Call:
    sqlite_reads.call_row(tx.conn, call_id)
    tx.conn.execute("UPDATE calls SET lang = ? WHERE call_id = ?", (lang, call_id))
    tx.touch(call_id)
    return sqlite_reads.load_call(tx.conn, call_id)


def append_messages(
    tx: Transaction,
    call_id: str,
    messages: Sequence[domain.Message],
    policy_state: str | None,
) -> list[domain.Message]:
    sqlite_reads.call_row(tx.conn, call_id)
    stored = [_store_message(tx, call_id, m) for m in messages]
    if policy_state is not None:
        tx.conn.execute(
            "UPDATE calls SET policy_state = ? WHERE call_id = ?", (policy_state, call_id)
        )
    tx.touch(call_id, interaction=bool(messages))
    return stored


def _store_message(tx: Transaction, call_id: str, msg: domain.Message) -> domain.Message:
    """Appends ``msg``, or replaces content and ``interrupted`` of its turn's stored message."""
    if msg.turn_id:
        row = tx.conn.execute(
            "SELECT * FROM messages WHERE call_id = ? AND turn_id = ? AND persona = ?",
            (call_id, msg.turn_id, msg.persona.value),
        ).fetchone()
        if row is not None:
            existing = rows.message_from_row(row)
            replaced = write_rules.replacement(existing, msg)
            if replaced is None:
                return existing
            tx.conn.execute(
                "UPDATE messages SET content = ?, interrupted = ? WHERE call_id = ? AND seq = ?",
                (msg.content, msg.interrupted, call_id, existing.seq),
            )
            tx.add_event(call_id, replaced)
            return replaced
    return _insert_message(tx, call_id, msg)


def _insert_message(tx: Transaction, call_id: str, msg: domain.Message) -> domain.Message:
    seq: int = tx.conn.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE call_id = ?", (call_id,)
    ).fetchone()[0]
    tx.conn.execute(
        "INSERT INTO messages (call_id, seq, created_at, persona, action, content, lang,"
        " turn_id, tool_calls_json, interrupted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            call_id,
            seq,
            tx.now,
            msg.persona.value,
            msg.action.value,
            msg.content,
            msg.lang,
            msg.turn_id,
            rows.tool_calls_json(msg),
            msg.interrupted,
        ),
    )
    stored = msg.model_copy(update={"seq": seq, "created_at": rows.parse_stamp(tx.now)})
    tx.add_event(call_id, stored)
    return stored


def update_claim(
    tx: Transaction,
    call_id: str,
    updates: Sequence[tuple[str, str]],
    messages: Sequence[domain.Message] = (),
) -> ClaimUpdateResult:
    row = sqlite_reads.call_row(tx.conn, call_id)
    applied = write_rules.claim_changes(row["initiate_json"], updates)
    if messages:  # the words first, so a watcher hears them before the claim changes
        append_messages(tx, call_id, messages, None)
    result, writes = write_rules.merge_claim(sqlite_reads.claim_of(tx.conn, call_id), applied)
    for change in writes:
        tx.conn.execute(
            "INSERT INTO claim_values (call_id, field, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (call_id, field) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (call_id, change.field, change.value, tx.now),
        )
        tx.add_event(call_id, change)
    if tx.latest_events:
        tx.touch(call_id)
    return result


def upsert_reminder(tx: Transaction, call_id: str, reminder: domain.Reminder) -> domain.Reminder:
    sqlite_reads.call_row(tx.conn, call_id)
    tx.conn.execute(
        "INSERT INTO reminders (call_id, title, description, due_at, owner, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (call_id, title) DO UPDATE SET description = excluded.description,"
        " due_at = excluded.due_at, owner = excluded.owner, updated_at = excluded.updated_at",
        (
            call_id,
            reminder.title,
            reminder.description,
            rows.stamp_or_none(reminder.due_at),
            reminder.owner,
            tx.now,
            tx.now,
        ),
    )
    stored = rows.reminder_from_row(
        tx.conn.execute(
            "SELECT * FROM reminders WHERE call_id = ? AND title = ?", (call_id, reminder.title)
        ).fetchone()
    )
    tx.add_event(call_id, stored)
    tx.touch(call_id)
    return stored


def save_synthesis(
    tx: Transaction,
    call_id: str,
    synthesis: domain.Synthesis,
    next_action: domain.NextAction,
    sms_summary: str,
    job_id: str = "",
) -> domain.Call:
    if write_rules.synthesis_stored_by(sqlite_reads.call_row(tx.conn, call_id), job_id):
        return sqlite_reads.load_call(tx.conn, call_id)
    tx.conn.execute(
        "UPDATE calls SET synthesis_json = ?, next_action_json = ?, sms_summary = ?,"
        " synthesis_job = ? WHERE call_id = ?",
        (synthesis.model_dump_json(), next_action.model_dump_json(), sms_summary, job_id, call_id),
    )
    tx.add_event(call_id, synthesis)
    tx.touch(call_id)
    sqlite_control.queue_webhook(tx, call_id)  # the report is complete
    return sqlite_reads.load_call(tx.conn, call_id)


def add_documents(tx: Transaction, chunks: Sequence[DocumentChunk]) -> int:
    """Adds or replaces chunks by id; every embedding must have the stored dimension."""
    row = tx.conn.execute("SELECT dimension FROM documents LIMIT 1").fetchone()
    dimension: int | None = row[0] if row else None
    for index, chunk in enumerate(chunks):
        vector, dimension = write_rules.checked_chunk(index, chunk, dimension)
        tx.conn.execute(
            "INSERT INTO documents (id, source, title, content, dimension, embedding, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET source = excluded.source, title = excluded.title,"
            " content = excluded.content, dimension = excluded.dimension,"
            " embedding = excluded.embedding, updated_at = excluded.updated_at",
            (
                chunk.id,
                chunk.source,
                chunk.title,
                chunk.content,
                dimension,
                vectors.to_blob(vector),
                tx.now,
                tx.now,
            ),
        )
    return write_rules.added_count(chunks)
