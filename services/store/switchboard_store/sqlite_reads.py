"""Queries of the SQLite store: plain functions of a connection, run on a reader thread.

The writer uses them too, inside its transaction, to return what it just stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from switchboard import domain
from switchboard.errors import NotFound
from switchboard_store import rows
from switchboard_store.repository import CallEvent


def call_row(conn: sqlite3.Connection, call_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM calls WHERE call_id = ?", (call_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no call with call_id {call_id}")
    return row


def load_call(conn: sqlite3.Connection, call_id: str) -> domain.Call:
    """The whole call: request, state, transcript, claim, reminders, outcome."""
    return assemble(conn, [call_row(conn, call_id)], with_messages=True)[0]


def claim_of(conn: sqlite3.Connection, call_id: str) -> dict[str, str]:
    return {
        r["field"]: r["value"]
        for r in conn.execute(
            "SELECT field, value FROM claim_values WHERE call_id = ? ORDER BY field", (call_id,)
        )
    }


def messages_of(conn: sqlite3.Connection, call_id: str) -> list[domain.Message]:
    return [
        rows.message_from_row(r)
        for r in conn.execute("SELECT * FROM messages WHERE call_id = ? ORDER BY seq", (call_id,))
    ]


def assemble(
    conn: sqlite3.Connection, call_rows: Sequence[sqlite3.Row], with_messages: bool
) -> list[domain.Call]:
    """Calls from their rows, with claims and reminders fetched in one query each.

    The f-strings in this module only ever interpolate placeholders (``?``) or fixed
    clauses; every value is a bound parameter.
    """
    ids = [r["call_id"] for r in call_rows]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    claims: dict[str, dict[str, str]] = {i: {} for i in ids}
    for r in conn.execute(
        f"SELECT call_id, field, value FROM claim_values WHERE call_id IN ({marks}) ORDER BY field",
        ids,
    ):
        claims[r["call_id"]][r["field"]] = r["value"]
    reminders: dict[str, list[domain.Reminder]] = {i: [] for i in ids}
    for r in conn.execute(
        f"SELECT * FROM reminders WHERE call_id IN ({marks}) ORDER BY created_at, title",
        ids,
    ):
        reminders[r["call_id"]].append(rows.reminder_from_row(r))
    return [
        rows.call_from_row(
            r,
            claims[r["call_id"]],
            messages_of(conn, r["call_id"]) if with_messages else [],
            reminders[r["call_id"]],
        )
        for r in call_rows
    ]


def list_calls(
    conn: sqlite3.Connection,
    phone_number: str,
    limit: int,
    states: Sequence[domain.CallState] = (),
    offset: int = 0,
) -> tuple[list[domain.Call], int]:
    conditions, params = [], []
    if phone_number:
        conditions.append("phone_number = ?")
        params.append(phone_number)
    if states:
        conditions.append(f"state IN ({','.join('?' * len(states))})")
        params.extend(s.value for s in states)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    total: int = conn.execute(f"SELECT COUNT(*) FROM calls {where}", params).fetchone()[0]
    found = conn.execute(
        f"SELECT * FROM calls {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return assemble(conn, found, with_messages=False), total


def find_open_call(
    conn: sqlite3.Connection, phone_number: str, since: str, initiate_json: str | None
) -> domain.Call | None:
    sql = (
        "SELECT * FROM calls WHERE phone_number = ? AND created_at >= ? AND state <> ?"
        + (" AND initiate_json = ?" if initiate_json is not None else "")
        + " ORDER BY created_at DESC, rowid DESC LIMIT 1"
    )
    params: list[str] = [phone_number, since, domain.CallState.FAILED.value]
    if initiate_json is not None:
        params.append(initiate_json)
    row = conn.execute(sql, params).fetchone()
    return assemble(conn, [row], with_messages=True)[0] if row else None


def events_after(
    conn: sqlite3.Connection, call_id: str, after_seq: int, limit: int
) -> list[CallEvent]:
    call_row(conn, call_id)
    return [
        rows.decode_event(r)
        for r in conn.execute(
            "SELECT * FROM call_events WHERE call_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (call_id, after_seq, limit),
        )
    ]


def document_vectors(conn: sqlite3.Connection) -> list[tuple[str, bytes]]:
    return [(r["id"], r["embedding"]) for r in conn.execute("SELECT id, embedding FROM documents")]


def documents(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, sqlite3.Row]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {
        r["id"]: r
        for r in conn.execute(
            f"SELECT id, source, title, content FROM documents WHERE id IN ({marks})",
            list(ids),
        )
    }
