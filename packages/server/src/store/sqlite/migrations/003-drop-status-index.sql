-- 003: jobs_status_id steered the sweeps (deadlines, leases) into scanning every queued or held job
-- instead of their partial indexes, and every status change paid to maintain it. Lists filtered by
-- status walk the owner or primary-key index instead.
DROP INDEX jobs_status_id;
