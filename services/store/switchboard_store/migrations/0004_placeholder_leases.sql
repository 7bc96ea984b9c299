-- Placeholder on the control branch only: the leases helper owns migration 0004.
-- The integrator drops this file when merging (the real 0004 takes its place).
SELECT 1;
