-- Durable jobs (an outbox): queued in the transaction that calls for them, claimed by
-- workers under a lease (SELECT … FOR UPDATE SKIP LOCKED). One post-call job per
-- ending of a call.

CREATE TABLE jobs (
    job_id        TEXT PRIMARY KEY,
    row_id        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    kind          TEXT NOT NULL,
    call_id       TEXT NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    state         TEXT NOT NULL,              -- pending | running | done | dead
    attempts      INTEGER NOT NULL DEFAULT 0, -- claims so far
    available_at  TIMESTAMPTZ NOT NULL,       -- a pending job is not handed out before this
    lease_token   TEXT NOT NULL DEFAULT '',
    leased_by     TEXT NOT NULL DEFAULT '',
    leased_until  TIMESTAMPTZ,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- What a claim looks for: due pending jobs and running ones whose lease expired.
CREATE INDEX jobs_pending ON jobs (kind, available_at) WHERE state = 'pending';
CREATE INDEX jobs_running ON jobs (kind, leased_until) WHERE state = 'running';
CREATE INDEX jobs_by_state ON jobs (state, created_at, row_id);

-- The job whose synthesis is stored: a job that runs twice writes its synthesis once.
ALTER TABLE calls ADD COLUMN synthesis_job TEXT NOT NULL DEFAULT '';
