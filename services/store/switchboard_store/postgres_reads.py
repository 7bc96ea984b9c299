"""Queries of the PostgreSQL store: coroutines of a connection.

The writes use them too, inside their transaction, to return what they just stored.
Every value is a bound parameter (``$n``); the SQL text is fixed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from switchboard import domain
from switchboard.errors import NotFound
from switchboard_store import rows
from switchboard_store.repository import CallEvent

Record = Any  # asyncpg.Record: read by column name, as rows.Row

# PostgreSQL text cannot hold NUL, which a transcript may: message content and turn ids
# are stored with NUL as ``\0`` and a backslash doubled, and decoded on the way out.
_ESCAPED = re.compile(r"\\([\\0])")


def escape_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\x00", "\\0")


def unescape_text(value: str) -> str:
    return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "0" else "\\", value)


def message_from_row(row: Record) -> domain.Message:
    fields = dict(row)
    fields["content"] = unescape_text(fields["content"])
    fields["turn_id"] = unescape_text(fields["turn_id"])
    return rows.message_from_row(fields)


async def call_row(conn: asyncpg.Connection, call_id: str, for_update: bool = False) -> Record:
    """The call's row; ``for_update`` locks it until the transaction ends, which is how
    concurrent writers to one call take turns (seq numbers stay gapless and distinct)."""
    sql = "SELECT * FROM calls WHERE call_id = $1" + (" FOR UPDATE" if for_update else "")
    row = await conn.fetchrow(sql, call_id)
    if row is None:
        raise NotFound(f"no call with call_id {call_id}")
    return row


async def claim_of(conn: asyncpg.Connection, call_id: str) -> dict[str, str]:
    found = await conn.fetch(
        "SELECT field, value FROM claim_values WHERE call_id = $1 ORDER BY field", call_id
    )
    return {r["field"]: r["value"] for r in found}


async def assemble(conn: asyncpg.Connection, call_rows: Sequence[Record]) -> list[domain.Call]:
    """Calls from their rows, without messages (a listing), with claims and reminders
    fetched in one query each."""
    ids = [r["call_id"] for r in call_rows]
    if not ids:
        return []
    claims: dict[str, dict[str, str]] = {i: {} for i in ids}
    for r in await conn.fetch(
        "SELECT call_id, field, value FROM claim_values WHERE call_id = ANY($1::text[])"
        " ORDER BY field",
        ids,
    ):
        claims[r["call_id"]][r["field"]] = r["value"]
    reminders: dict[str, list[domain.Reminder]] = {i: [] for i in ids}
    for r in await conn.fetch(
        "SELECT * FROM reminders WHERE call_id = ANY($1::text[]) ORDER BY created_at, title", ids
    ):
        reminders[r["call_id"]].append(rows.reminder_from_row(r))
    return [
        rows.call_from_row(
            r,
            claims[r["call_id"]],
            [],
            reminders[r["call_id"]],
        )
        for r in call_rows
    ]


async def list_calls(
    conn: asyncpg.Connection,
    phone_number: str,
    limit: int,
    states: Sequence[domain.CallState] = (),
    offset: int = 0,
) -> tuple[list[domain.Call], int]:
    # An empty filter matches everything: '' for the number, NULL for the states.
    where = "WHERE ($1 = '' OR phone_number = $1) AND ($2::text[] IS NULL OR state = ANY($2))"
    wanted = [s.value for s in states] or None
    total = await conn.fetchval(f"SELECT COUNT(*) FROM calls {where}", phone_number, wanted)
    found = await conn.fetch(
        f"SELECT * FROM calls {where} ORDER BY created_at DESC, row_id DESC LIMIT $3 OFFSET $4",
        phone_number,
        wanted,
        limit,
        offset,
    )
    return await assemble(conn, found), int(total)


# A call with its claim, reminders and transcript in one statement (one round trip, one
# snapshot): the parts come back as JSON arrays of their rows.
_WHOLE_CALL = """
SELECT c.*,
  (SELECT COALESCE(json_agg(json_build_object('field', v.field, 'value', v.value)
                            ORDER BY v.field), '[]')
     FROM claim_values v WHERE v.call_id = c.call_id) AS claim_json,
  (SELECT COALESCE(json_agg(r ORDER BY r.created_at, r.title), '[]')
     FROM reminders r WHERE r.call_id = c.call_id) AS reminders_json,
  (SELECT COALESCE(json_agg(m ORDER BY m.seq), '[]')
     FROM messages m WHERE m.call_id = c.call_id) AS messages_json
FROM calls c
"""

# The callback-window lookup. calls_by_number (phone_number, created_at DESC, row_id DESC)
# serves it as one index range scan from the newest call down, stopping at the first
# row that is not failed (and, when asked, has the same request); the call's parts are
# then read by their primary keys.
FIND_OPEN_WHOLE_CALL = (
    _WHOLE_CALL + " WHERE c.phone_number = $1 AND c.created_at >= $2 AND c.state <> $3"
    " AND ($4::text IS NULL OR c.initiate_json = $4)"
    " ORDER BY c.created_at DESC, c.row_id DESC LIMIT 1"
)


def whole_call(row: Record) -> domain.Call:
    """A call from a :data:`_WHOLE_CALL` row."""
    claim = {v["field"]: v["value"] for v in json.loads(row["claim_json"])}
    reminders = [rows.reminder_from_row(r) for r in json.loads(row["reminders_json"])]
    messages = [message_from_row(m) for m in json.loads(row["messages_json"])]
    return rows.call_from_row(row, claim, messages, reminders)


async def load_whole_call(conn: asyncpg.Connection, call_id: str) -> domain.Call:
    """The whole call in one statement; NotFound when there is none."""
    row = await conn.fetchrow(_WHOLE_CALL + " WHERE c.call_id = $1", call_id)
    if row is None:
        raise NotFound(f"no call with call_id {call_id}")
    return whole_call(row)


async def find_open_call(
    conn: asyncpg.Connection, phone_number: str, since: datetime, initiate_json: str | None
) -> domain.Call | None:
    row = await conn.fetchrow(
        FIND_OPEN_WHOLE_CALL, phone_number, since, domain.CallState.FAILED.value, initiate_json
    )
    return whole_call(row) if row else None


async def events_after(
    conn: asyncpg.Connection, call_id: str, after_seq: int, limit: int
) -> list[CallEvent]:
    await call_row(conn, call_id)
    found = await conn.fetch(
        "SELECT * FROM call_events WHERE call_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        call_id,
        after_seq,
        limit,
    )
    return [rows.decode_event(r) for r in found]


async def documents_version(conn: asyncpg.Connection) -> tuple[int, datetime | None]:
    """Changes whenever a chunk is added or replaced, by this replica or another."""
    row = await conn.fetchrow("SELECT COUNT(*) AS n, MAX(updated_at) AS at FROM documents")
    return int(row["n"]), row["at"]


async def document_vectors(conn: asyncpg.Connection) -> list[tuple[str, bytes]]:
    return [
        (r["id"], r["embedding"]) for r in await conn.fetch("SELECT id, embedding FROM documents")
    ]


async def documents(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, Record]:
    if not ids:
        return {}
    found = await conn.fetch(
        "SELECT id, source, title, content FROM documents WHERE id = ANY($1::text[])", list(ids)
    )
    return {r["id"]: r for r in found}
