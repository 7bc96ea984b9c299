-- Placeholder on the control branch only: the redis helper owns migration 0005.
-- The integrator drops this file when merging (the real 0005 takes its place).
SELECT 1;
