-- Reserved: migration 0004 (call leases) is landing from a parallel branch; this no-op keeps
-- the numbering without gaps until it replaces this file.
SELECT 1;
