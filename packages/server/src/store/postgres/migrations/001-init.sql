-- 001: the whole schema of SQLite migrations 001-006, in PostgreSQL. Times are bigint milliseconds
-- since the epoch; JSON columns are text holding JSON (one row mapping for both stores, rows.ts).
CREATE TABLE jobs (
  id text PRIMARY KEY,                 -- ULID: ordering by id is ordering by age
  capability text NOT NULL,
  capability_full text NOT NULL,
  payload text NOT NULL,
  inputs text NOT NULL DEFAULT '[]',
  priority integer NOT NULL DEFAULT 0,
  owner text NOT NULL,
  idempotency_key text,
  request_hash text,
  timeout_secs double precision,
  max_wait_secs double precision,
  runtime_secs double precision,
  max_attempts integer NOT NULL,
  backoff_ms bigint NOT NULL,
  status text NOT NULL,
  progress text,
  output text,
  output_files text NOT NULL DEFAULT '[]',
  error text,
  epoch integer NOT NULL DEFAULT 0,    -- fencing token: rises with every assignment
  attempts_used integer NOT NULL DEFAULT 0,
  agent_id text,
  lease_expires_at bigint,
  cancel_requested_at bigint,
  run_after bigint,
  deadline_at bigint,
  pickup_deadline_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  started_at bigint,
  ended_at bigint,
  log_seq integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_queue ON jobs(capability, priority DESC, id) WHERE status = 'queued';
CREATE INDEX jobs_held_by_agent ON jobs(agent_id) WHERE status IN ('assigned', 'running');
CREATE INDEX jobs_lease ON jobs(lease_expires_at) WHERE status IN ('assigned', 'running');
CREATE INDEX jobs_deadline ON jobs(deadline_at) WHERE deadline_at IS NOT NULL AND status IN ('queued', 'assigned', 'running');
CREATE INDEX jobs_pickup_deadline ON jobs(pickup_deadline_at) WHERE pickup_deadline_at IS NOT NULL AND status = 'queued';
CREATE INDEX jobs_owner_id ON jobs(owner, id);
CREATE INDEX jobs_finished ON jobs(ended_at) WHERE status IN ('completed', 'failed', 'cancelled');

CREATE TABLE job_attempts (
  job_id text NOT NULL,
  epoch integer NOT NULL,
  n integer NOT NULL,
  agent_id text NOT NULL,
  started_at bigint NOT NULL,
  ended_at bigint,
  error text,
  PRIMARY KEY (job_id, epoch)
);

CREATE TABLE job_logs (
  job_id text NOT NULL,
  seq integer NOT NULL,
  ts bigint NOT NULL,
  stream text NOT NULL,
  line text NOT NULL,
  PRIMARY KEY (job_id, seq)
);

CREATE TABLE agents (
  id text PRIMARY KEY,
  name text,
  display_name text,
  key_hash text NOT NULL,
  enrolment_key_id text,
  capabilities text NOT NULL,
  tier integer NOT NULL,
  capacity integer NOT NULL,
  system_info text NOT NULL,
  status text,
  metrics text,
  health text,
  registered_at bigint NOT NULL,
  last_seen_at bigint,
  revoked_at bigint
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  kind text NOT NULL,
  prefix text NOT NULL,
  hash text NOT NULL UNIQUE,
  owner text NOT NULL,
  scopes text NOT NULL,
  name text,
  created_at bigint NOT NULL,
  revoked_at bigint
);

CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  scopes text NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE refresh_tokens (
  hash text PRIMARY KEY,
  user_id text NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint
);

CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE agent_commands (
  id text PRIMARY KEY,
  agent_id text NOT NULL,
  type text NOT NULL,
  params text,
  jws text NOT NULL,
  status text NOT NULL,
  output text,
  error text,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  completed_at bigint
);
CREATE INDEX agent_commands_agent ON agent_commands(agent_id, issued_at);

CREATE TABLE blobs (
  hash text PRIMARY KEY,
  size bigint NOT NULL,
  created_at bigint NOT NULL,
  last_referenced_at bigint NOT NULL
);
CREATE INDEX blobs_last_referenced ON blobs(last_referenced_at);
CREATE TABLE blob_owners (
  owner text NOT NULL,
  hash text NOT NULL,
  name text NOT NULL,
  size bigint NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (owner, hash)
);
CREATE INDEX blob_owners_hash ON blob_owners(hash);
CREATE TABLE job_files (
  hash text NOT NULL,
  job_id text NOT NULL,
  role text NOT NULL,
  name text NOT NULL,
  PRIMARY KEY (hash, job_id, role, name)
);
CREATE INDEX job_files_job ON job_files(job_id);
-- References from jobs, kept by triggers (as in SQLite) so no job verb has to know about files.
CREATE FUNCTION job_files_inputs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_files (hash, job_id, role, name)
    SELECT e->>'hash', NEW.id, 'input', e->>'name' FROM jsonb_array_elements(NEW.inputs::jsonb) e
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER job_files_inputs AFTER INSERT ON jobs FOR EACH ROW WHEN (NEW.inputs <> '[]')
  EXECUTE FUNCTION job_files_inputs();
CREATE FUNCTION job_files_outputs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_files (hash, job_id, role, name)
    SELECT e->>'hash', NEW.id, 'output', e->>'name' FROM jsonb_array_elements(NEW.output_files::jsonb) e
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER job_files_outputs AFTER UPDATE OF output_files ON jobs FOR EACH ROW
  WHEN (NEW.output_files <> '[]') EXECUTE FUNCTION job_files_outputs();
CREATE FUNCTION job_files_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM job_files WHERE job_id = OLD.id;
  RETURN NULL;
END $$;
CREATE TRIGGER job_files_gone AFTER DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION job_files_gone();

CREATE TABLE replicas (
  id text PRIMARY KEY,
  seen_at bigint NOT NULL
);
