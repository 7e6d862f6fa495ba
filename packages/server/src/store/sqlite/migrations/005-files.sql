-- 005: content-addressed blobs, who owns them (quota), and which jobs reference them (GC).
CREATE TABLE blobs (
  hash TEXT PRIMARY KEY,               -- sha256, lowercase hex: the blob store's key
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_referenced_at INTEGER NOT NULL  -- upload, submission naming it, output registration
);
CREATE INDEX blobs_last_referenced ON blobs(last_referenced_at);
-- One row per owner and blob: an owner's usage (quota) is the sum of its rows' sizes, so a file
-- uploaded twice by one owner counts once, and a file two owners upload counts for each.
CREATE TABLE blob_owners (
  owner TEXT NOT NULL,
  hash TEXT NOT NULL,
  name TEXT NOT NULL,                  -- the name it was first uploaded under
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, hash)
) WITHOUT ROWID;
CREATE INDEX blob_owners_hash ON blob_owners(hash);
-- References from jobs, kept by triggers from jobs.inputs and jobs.output_files, so every path that
-- writes those columns keeps them (and no job verb has to know about files).
CREATE TABLE job_files (
  hash TEXT NOT NULL,
  job_id TEXT NOT NULL,
  role TEXT NOT NULL,                  -- input | output
  name TEXT NOT NULL,
  PRIMARY KEY (hash, job_id, role, name)
) WITHOUT ROWID;
CREATE INDEX job_files_job ON job_files(job_id);
CREATE TRIGGER job_files_inputs AFTER INSERT ON jobs WHEN NEW.inputs != '[]' BEGIN
  INSERT OR IGNORE INTO job_files (hash, job_id, role, name)
    SELECT json_extract(value, '$.hash'), NEW.id, 'input', json_extract(value, '$.name') FROM json_each(NEW.inputs);
END;
CREATE TRIGGER job_files_outputs AFTER UPDATE OF output_files ON jobs WHEN NEW.output_files != '[]' BEGIN
  INSERT OR IGNORE INTO job_files (hash, job_id, role, name)
    SELECT json_extract(value, '$.hash'), NEW.id, 'output', json_extract(value, '$.name')
    FROM json_each(NEW.output_files);
END;
CREATE TRIGGER job_files_gone AFTER DELETE ON jobs BEGIN
  DELETE FROM job_files WHERE job_id = OLD.id;
END;
