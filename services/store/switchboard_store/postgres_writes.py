"""Changes to the PostgreSQL store: coroutines of a :class:`Transaction`.

The rules of :mod:`switchboard_store.write_rules`, in PostgreSQL's dialect. Every
change to a call first locks the call's row (``SELECT … FOR UPDATE``): writers to one
call take turns, so message and event seqs are gapless and never collide, while
writers to different calls run in parallel. Each change writes its call events in the
same transaction, so a watcher replaying events sees exactly what was committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.jobs import POST_CALL, JobState
from switchboard_store import postgres_control, postgres_reads, rows, vectors, write_rules
from switchboard_store.postgres_reads import escape_text
from switchboard_store.repository import ClaimUpdateResult, DocumentChunk, EventPayload
from switchboard_store.validation import canonical_json

# Taken by every add_documents: the first chunk fixes the dimension, the next must match.
DOCUMENTS_LOCK_KEY = 0x5357_444F_4353


class Transaction:
    """A write in progress: its connection, the time it happens at, the events it added."""

    def __init__(self, conn: asyncpg.Connection, now: datetime, traceparent: str = "") -> None:
        self.conn = conn
        self.now = now
        # The trace of the request that writes: a job queued here joins it.
        self.traceparent = traceparent
        self.latest_events: dict[str, int] = {}

    async def add_event(self, call_id: str, payload: EventPayload) -> int:
        seq: int = await self.conn.fetchval(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM call_events WHERE call_id = $1", call_id
        )
        kind, data = rows.encode_event(payload)
        await self.conn.execute(
            "INSERT INTO call_events (call_id, seq, at, kind, payload_json)"
            " VALUES ($1, $2, $3, $4, $5)",
            call_id,
            seq,
            self.now,
            kind,
            data,
        )
        self.latest_events[call_id] = seq
        return seq

    async def touch(self, call_id: str, interaction: bool = False) -> None:
        """Moves the call's ``updated_at`` (and ``last_interaction_at``) to now."""
        await self.conn.execute(
            "UPDATE calls SET updated_at = $1,"
            " last_interaction_at = CASE WHEN $2 THEN $1 ELSE last_interaction_at END"
            " WHERE call_id = $3",
            self.now,
            interaction,
            call_id,
        )


async def queue_job(tx: Transaction, kind: str, call_id: str, job_id: str) -> None:
    """Queues a job in ``tx``; a job id queued before is left as it is (idempotent).

    The job keeps the transaction's ``traceparent``: its worker joins the call's trace.
    """
    await tx.conn.execute(
        "INSERT INTO jobs (job_id, kind, call_id, state, available_at, created_at, updated_at,"
        " traceparent) VALUES ($1, $2, $3, $4, $5, $5, $5, $6) ON CONFLICT (job_id) DO NOTHING",
        job_id,
        kind,
        call_id,
        JobState.PENDING.value,
        tx.now,
        tx.traceparent,
    )


async def insert_call(
    tx: Transaction, call_id: str, initiate: domain.CallRequest, direction: domain.CallDirection
) -> domain.Call:
    await tx.conn.execute(
        "INSERT INTO calls (call_id, created_at, updated_at, direction, state, phone_number,"
        " initiate_json, attempt) VALUES ($1, $2, $2, $3, $4, $5, $6, 1)",
        call_id,
        tx.now,
        direction.value,
        domain.CallState.CREATED.value,
        initiate.phone_number,
        canonical_json(initiate),
    )
    await tx.add_event(call_id, domain.CallState.CREATED)
    return await postgres_reads.load_whole_call(tx.conn, call_id)


async def set_call_state(
    tx: Transaction,
    call_id: str,
    state: domain.CallState,
    reason: str,
    lease: CallLease | None = None,
) -> domain.Call:
    row = await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    change = write_rules.state_change(call_id, row, state, reason, lease, tx.now)
    await tx.conn.execute(
        "UPDATE calls SET state = $1, state_reason = $2, attempt = attempt + $3 WHERE call_id = $4",
        state.value,
        change.reason,
        change.added_attempts,
        call_id,
    )
    if change.lease is not None:
        await write_lease(tx, call_id, change.lease)
    await tx.touch(call_id, interaction=True)
    if change.changed:
        await tx.add_event(call_id, state)
        if change.line is not None:
            await _insert_message(tx, call_id, change.line)
        if change.post_call_job_id is not None:
            # The outbox: the job commits with the ending, or neither does.
            await queue_job(tx, POST_CALL, call_id, change.post_call_job_id)
        elif state.is_terminal:
            # Never connected: its report is complete now, so its webhook is due.
            await postgres_control.queue_webhook(tx, call_id)
    return await postgres_reads.load_whole_call(tx.conn, call_id)


async def write_lease(tx: Transaction, call_id: str, lease: write_rules.LeaseWrite) -> None:
    await tx.conn.execute(
        "UPDATE calls SET lease_owner = $1, lease_expires_at = $2, lease_address = $3"
        " WHERE call_id = $4",
        lease.owner,
        lease.expires_at,
        lease.address,
        call_id,
    )


async def set_call_language(tx: Transaction, call_id: str, lang: str) -> domain.Call:
    await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    await tx.conn.execute("UPDATE calls SET lang = $1 WHERE call_id = $2", lang, call_id)
    await tx.touch(call_id)
    return await postgres_reads.load_whole_call(tx.conn, call_id)


async def append_messages(
    tx: Transaction,
    call_id: str,
    messages: Sequence[domain.Message],
    policy_state: str | None,
) -> list[domain.Message]:
    await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    stored = [await _store_message(tx, call_id, m) for m in messages]
    if policy_state is not None:
        await tx.conn.execute(
            "UPDATE calls SET policy_state = $1 WHERE call_id = $2", policy_state, call_id
        )
    await tx.touch(call_id, interaction=bool(messages))
    return stored


async def _store_message(tx: Transaction, call_id: str, msg: domain.Message) -> domain.Message:
    """Appends ``msg``, or replaces content and ``interrupted`` of its turn's stored message."""
    if msg.turn_id:
        row = await tx.conn.fetchrow(
            "SELECT * FROM messages WHERE call_id = $1 AND turn_id = $2 AND persona = $3",
            call_id,
            escape_text(msg.turn_id),
            msg.persona.value,
        )
        if row is not None:
            existing = postgres_reads.message_from_row(row)
            replaced = write_rules.replacement(existing, msg)
            if replaced is None:
                return existing
            await tx.conn.execute(
                "UPDATE messages SET content = $1, interrupted = $2"
                " WHERE call_id = $3 AND seq = $4",
                escape_text(msg.content),
                msg.interrupted,
                call_id,
                existing.seq,
            )
            await tx.add_event(call_id, replaced)
            return replaced
    return await _insert_message(tx, call_id, msg)


async def _insert_message(tx: Transaction, call_id: str, msg: domain.Message) -> domain.Message:
    seq: int = await tx.conn.fetchval(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE call_id = $1", call_id
    )
    await tx.conn.execute(
        "INSERT INTO messages (call_id, seq, created_at, persona, action, content, lang,"
        " turn_id, tool_calls_json, interrupted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        call_id,
        seq,
        tx.now,
        msg.persona.value,
        msg.action.value,
        escape_text(msg.content),
        msg.lang,
        escape_text(msg.turn_id),
        rows.tool_calls_json(msg),
        msg.interrupted,
    )
    stored = msg.model_copy(update={"seq": seq, "created_at": tx.now})
    await tx.add_event(call_id, stored)
    return stored


async def update_claim(
    tx: Transaction,
    call_id: str,
    updates: Sequence[tuple[str, str]],
    messages: Sequence[domain.Message] = (),
) -> ClaimUpdateResult:
    row = await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    applied = write_rules.claim_changes(row["initiate_json"], updates)
    if messages:  # the words first, so a watcher hears them before the claim changes
        await append_messages(tx, call_id, messages, None)
    result, writes = write_rules.merge_claim(
        await postgres_reads.claim_of(tx.conn, call_id), applied
    )
    for change in writes:
        await tx.conn.execute(
            "INSERT INTO claim_values (call_id, field, value, updated_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (call_id, field) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            call_id,
            change.field,
            change.value,
            tx.now,
        )
        await tx.add_event(call_id, change)
    if tx.latest_events:
        await tx.touch(call_id)
    return result


async def upsert_reminder(
    tx: Transaction, call_id: str, reminder: domain.Reminder
) -> domain.Reminder:
    await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    row = await tx.conn.fetchrow(
        "INSERT INTO reminders (call_id, title, description, due_at, owner, created_at,"
        " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)"
        " ON CONFLICT (call_id, title) DO UPDATE SET description = excluded.description,"
        " due_at = excluded.due_at, owner = excluded.owner, updated_at = excluded.updated_at"
        " RETURNING *",
        call_id,
        reminder.title,
        reminder.description,
        reminder.due_at,
        reminder.owner,
        tx.now,
    )
    stored = rows.reminder_from_row(row)
    await tx.add_event(call_id, stored)
    await tx.touch(call_id)
    return stored


async def save_synthesis(
    tx: Transaction,
    call_id: str,
    synthesis: domain.Synthesis,
    next_action: domain.NextAction,
    sms_summary: str,
    job_id: str = "",
) -> domain.Call:
    row = await postgres_reads.call_row(tx.conn, call_id, for_update=True)
    if write_rules.synthesis_stored_by(row, job_id):
        return await postgres_reads.load_whole_call(tx.conn, call_id)
    await tx.conn.execute(
        "UPDATE calls SET synthesis_json = $1, next_action_json = $2, sms_summary = $3,"
        " synthesis_job = $4 WHERE call_id = $5",
        synthesis.model_dump_json(),
        next_action.model_dump_json(),
        sms_summary,
        job_id,
        call_id,
    )
    await tx.add_event(call_id, synthesis)
    await tx.touch(call_id)
    await postgres_control.queue_webhook(tx, call_id)  # the report is complete
    return await postgres_reads.load_whole_call(tx.conn, call_id)


async def add_documents(tx: Transaction, chunks: Sequence[DocumentChunk]) -> int:
    """Adds or replaces chunks by id; every embedding must have the stored dimension."""
    await tx.conn.execute("SELECT pg_advisory_xact_lock($1)", DOCUMENTS_LOCK_KEY)
    dimension: int | None = await tx.conn.fetchval("SELECT dimension FROM documents LIMIT 1")
    for index, chunk in enumerate(chunks):
        vector, dimension = write_rules.checked_chunk(index, chunk, dimension)
        await tx.conn.execute(
            "INSERT INTO documents (id, source, title, content, dimension, embedding, created_at,"
            " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
            " ON CONFLICT (id) DO UPDATE SET source = excluded.source, title = excluded.title,"
            " content = excluded.content, dimension = excluded.dimension,"
            " embedding = excluded.embedding, updated_at = excluded.updated_at",
            chunk.id,
            chunk.source,
            chunk.title,
            chunk.content,
            dimension,
            vectors.to_blob(vector),
            tx.now,
        )
    return write_rules.added_count(chunks)
