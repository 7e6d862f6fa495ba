-- 006: the server replicas sharing this database and when each last swept: a restarting replica
-- extends held leases (a grace for agents to reconnect) only when no other replica is alive.
CREATE TABLE replicas (
  id TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
) WITHOUT ROWID;
