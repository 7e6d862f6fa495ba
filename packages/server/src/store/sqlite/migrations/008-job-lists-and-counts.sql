-- 008: lists by status and per-status counts that stay flat as the table grows (issue 12).
-- Lists: one index per way a list is filtered, each ending in id so a page is read in id order and
-- the walk stops after `limit` rows. They are partial: a job enters them when queued and when it
-- finishes, never while held (assigned, running), so the claim/start path of each job touches them
-- once (leaving queued); full (status, id) indexes doubled the CPU of claim+start+complete. A list
-- of held jobs walks the held jobs (jobs_lease: no more than the fleet's slots). Queries name the
-- predicate literally (LISTED in sqlite-jobs.ts) so SQLite can use these. The sweeps name their own partial
-- indexes (INDEXED BY) so these cannot steer them into scanning (why 003 dropped jobs_status_id).
CREATE INDEX jobs_status_list ON jobs(status, id) WHERE status IN ('queued','completed','failed','cancelled');
CREATE INDEX jobs_owner_status_list ON jobs(owner, status, id)
  WHERE status IN ('queued','completed','failed','cancelled');

-- Counts: counters per (owner, capability, status), kept by triggers in the writing transaction,
-- so GET /v1/jobs/stats reads a few rows instead of counting the jobs. SQLite has one writer: the
-- counter rows are never contended.
CREATE TABLE job_counts (
  owner TEXT NOT NULL,
  capability TEXT NOT NULL,
  status TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (owner, capability, status)
) WITHOUT ROWID;
INSERT INTO job_counts (owner, capability, status, n)
  SELECT owner, capability, status, COUNT(*) FROM jobs GROUP BY owner, capability, status;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (owner, capability, status, n) VALUES (new.owner, new.capability, new.status, 1)
    ON CONFLICT (owner, capability, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_status AFTER UPDATE OF status ON jobs WHEN old.status <> new.status BEGIN
  UPDATE job_counts SET n = n - 1 WHERE owner = old.owner AND capability = old.capability AND status = old.status;
  INSERT INTO job_counts (owner, capability, status, n) VALUES (new.owner, new.capability, new.status, 1)
    ON CONFLICT (owner, capability, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE owner = old.owner AND capability = old.capability AND status = old.status;
END;
