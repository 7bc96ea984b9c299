-- Dialer leases on live calls: the replica that runs a call renews lease_expires_at
-- while the call lives; a call whose lease expired (or whose replica restarted) is
-- ended as line_dropped. An ended or failed call holds no lease ('' and NULL).
ALTER TABLE calls ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN lease_expires_at TIMESTAMPTZ;
-- What a sweep looks for: the leased calls, soonest expiry first (only live calls).
CREATE INDEX calls_leased ON calls (lease_expires_at) WHERE lease_owner <> '';
