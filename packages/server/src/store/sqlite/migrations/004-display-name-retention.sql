-- 004: the display name real OffloadMQ agents register with (≤ 50 characters), shown in agent lists;
-- and the index the retention sweep walks (finished jobs by age).
ALTER TABLE agents ADD COLUMN display_name TEXT;
CREATE INDEX jobs_finished ON jobs(ended_at) WHERE status IN ('completed', 'failed', 'cancelled');
