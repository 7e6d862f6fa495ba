-- 001: jobs, attempts, logs, agents, credentials. Times are integer milliseconds since the epoch.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,                 -- ULID: ordering by id is ordering by age
  capability TEXT NOT NULL,            -- base name, matched against agents
  capability_full TEXT NOT NULL,       -- as submitted, attributes included
  payload TEXT NOT NULL,               -- JSON
  inputs TEXT NOT NULL DEFAULT '[]',   -- JSON FileRef[]
  priority INTEGER NOT NULL DEFAULT 0,
  owner TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT,                   -- sha256 of the submit request, to tell a replay from a conflict
  timeout_secs REAL,
  max_wait_secs REAL,
  runtime_secs REAL,
  max_attempts INTEGER NOT NULL,
  backoff_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  progress TEXT,                       -- JSON
  output TEXT,                         -- JSON
  output_files TEXT NOT NULL DEFAULT '[]',
  error TEXT,                          -- JSON JobError
  epoch INTEGER NOT NULL DEFAULT 0,    -- fencing token: rises with every assignment
  attempts_used INTEGER NOT NULL DEFAULT 0, -- assignments that count against max_attempts
  agent_id TEXT,
  lease_expires_at INTEGER,
  cancel_requested_at INTEGER,
  run_after INTEGER,
  deadline_at INTEGER,                 -- created + timeout_secs
  pickup_deadline_at INTEGER,          -- created + max_wait_secs
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  log_seq INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs(owner, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_queue ON jobs(capability, priority DESC, id) WHERE status = 'queued';
CREATE INDEX jobs_held_by_agent ON jobs(agent_id) WHERE status IN ('assigned', 'running');
CREATE INDEX jobs_lease ON jobs(lease_expires_at) WHERE status IN ('assigned', 'running');
CREATE INDEX jobs_deadline ON jobs(deadline_at) WHERE deadline_at IS NOT NULL AND status IN ('queued', 'assigned', 'running');
CREATE INDEX jobs_pickup_deadline ON jobs(pickup_deadline_at) WHERE pickup_deadline_at IS NOT NULL AND status = 'queued';
CREATE INDEX jobs_owner_id ON jobs(owner, id);
CREATE INDEX jobs_status_id ON jobs(status, id);

CREATE TABLE job_attempts (
  job_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  n INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  error TEXT,
  PRIMARY KEY (job_id, epoch)
) WITHOUT ROWID;

CREATE TABLE job_logs (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  stream TEXT NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  name TEXT,
  key_hash TEXT NOT NULL,
  enrolment_key_id TEXT,
  capabilities TEXT NOT NULL,          -- JSON string[] as advertised
  tier INTEGER NOT NULL,
  capacity INTEGER NOT NULL,
  system_info TEXT NOT NULL,           -- JSON
  status TEXT,
  metrics TEXT,
  health TEXT,
  registered_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  revoked_at INTEGER
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,                  -- 'client' | 'enrolment'
  prefix TEXT NOT NULL,                -- first characters, to recognise a key in listings
  hash TEXT NOT NULL UNIQUE,           -- sha256 of the whole key
  owner TEXT NOT NULL,
  scopes TEXT NOT NULL,                -- JSON string[]
  name TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
