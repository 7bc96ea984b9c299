-- The first schema: calls and everything that hangs off them, call events,
-- and the knowledge base. Times are timestamptz (UTC, microseconds).

CREATE TABLE calls (
    call_id              TEXT PRIMARY KEY,
    -- Insertion order: breaks ties between calls created in the same microsecond.
    row_id               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    direction            TEXT NOT NULL,
    state                TEXT NOT NULL,
    state_reason         TEXT NOT NULL DEFAULT '',
    phone_number         TEXT NOT NULL,
    -- The request as canonical JSON: FindOpenCall compares it byte for byte.
    initiate_json        TEXT NOT NULL,
    synthesis_json       TEXT,
    next_action_json     TEXT,
    sms_summary          TEXT NOT NULL DEFAULT '',
    lang                 TEXT NOT NULL DEFAULT '',
    policy_state         TEXT NOT NULL DEFAULT '',
    last_interaction_at  TIMESTAMPTZ,
    attempt              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX calls_by_created ON calls (created_at DESC, row_id DESC);
-- The callback-window lookup: one number's newest calls, newest first.
CREATE INDEX calls_by_number ON calls (phone_number, created_at DESC, row_id DESC);

CREATE TABLE messages (
    call_id          TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    persona          TEXT NOT NULL,
    action           TEXT NOT NULL,
    content          TEXT NOT NULL,
    lang             TEXT NOT NULL DEFAULT '',
    turn_id          TEXT NOT NULL DEFAULT '',
    tool_calls_json  TEXT NOT NULL DEFAULT '[]',
    interrupted      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (call_id, seq)
);
-- The idempotency key of a message: a resent turn replaces its message in place.
CREATE UNIQUE INDEX messages_by_turn ON messages (call_id, turn_id, persona) WHERE turn_id <> '';

CREATE TABLE claim_values (
    call_id     TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    field       TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (call_id, field)
);

CREATE TABLE reminders (
    call_id      TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    due_at       TIMESTAMPTZ,
    owner        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (call_id, title)
);

CREATE TABLE call_events (
    call_id       TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,
    payload_json  TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);

CREATE TABLE documents (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    content     TEXT NOT NULL,
    dimension   INTEGER NOT NULL,
    -- float32 little-endian, L2-normalised on write: searched with numpy as on SQLite
    -- (pgvector is not packaged for PostgreSQL 15 in Debian bookworm).
    embedding   BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
