-- The W3C traceparent of the change that queued a job: its worker's span joins the
-- call's trace ('' when telemetry was off).
ALTER TABLE jobs ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
