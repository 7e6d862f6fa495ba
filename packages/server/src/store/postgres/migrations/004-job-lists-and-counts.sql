-- 004: lists by status and per-status counts that stay flat as the table grows (issue 12).
-- Lists: one index per way a list is filtered, each ending in id so a page is read in id order and
-- the walk stops after `limit` rows. They are partial: a job enters them when queued and when it
-- finishes, never while held (assigned, running), so the claim/start path of each job touches them
-- once (leaving queued). A list of held jobs walks the held jobs (jobs_lease: no more than the
-- fleet's slots). Queries repeat the predicate literally so the planner can prove it.
CREATE INDEX jobs_status_list ON jobs(status, id) WHERE status IN ('queued','completed','failed','cancelled');
CREATE INDEX jobs_owner_status_list ON jobs(owner, status, id)
  WHERE status IN ('queued','completed','failed','cancelled');

-- Counts: counters per (owner, capability, status). Updating one counter row from every writing
-- transaction would serialise all of them (and every replica) on that row, so each statement that
-- writes jobs appends its net change, aggregated, to job_count_deltas (insert only, never contended),
-- and compactJobCounts (a housekeeping sweep, safe on every replica) folds the deltas into
-- job_counts. A read sums both: a few counter rows plus at most one sweep interval of deltas.
CREATE TABLE job_counts (
  owner text NOT NULL,
  capability text NOT NULL,
  status text NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (owner, capability, status)
);
CREATE TABLE job_count_deltas (
  id bigserial PRIMARY KEY,
  owner text NOT NULL,
  capability text NOT NULL,
  status text NOT NULL,
  n bigint NOT NULL
);
INSERT INTO job_counts (owner, capability, status, n)
  SELECT owner, capability, status, count(*) FROM jobs GROUP BY owner, capability, status;

CREATE FUNCTION job_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (owner, capability, status, n)
    SELECT owner, capability, status, count(*) FROM new_rows GROUP BY owner, capability, status;
  RETURN NULL;
END $$;
CREATE FUNCTION job_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (owner, capability, status, n)
    SELECT owner, capability, status, sum(d) FROM (
      SELECT owner, capability, status, 1 AS d FROM new_rows
      UNION ALL SELECT owner, capability, status, -1 FROM old_rows) c
    GROUP BY owner, capability, status HAVING sum(d) <> 0;
  RETURN NULL;
END $$;
CREATE FUNCTION job_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (owner, capability, status, n)
    SELECT owner, capability, status, -count(*) FROM old_rows GROUP BY owner, capability, status;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_counts_inserted();
CREATE TRIGGER jobs_count_update AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_counts_updated();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION job_counts_deleted();
