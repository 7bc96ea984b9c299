-- Call control over REST (the gateway's): idempotency keys of POST /call and the
-- completion webhooks of calls.

-- (client, key) → the call the first request with that key placed. `client` is the
-- gateway's id of an API key, never the key. call_id is '' while that request dials.
CREATE TABLE idempotency_keys (
    client        TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    call_id       TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Where a call's completion report is posted, and whose secret signs it. A `webhook`
-- job is queued once per ending of the call, when its report is complete.
CREATE TABLE call_webhooks (
    call_id     TEXT PRIMARY KEY REFERENCES calls (call_id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    client      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
