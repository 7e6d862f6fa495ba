-- 002: signed server → agent commands and their outcomes.
CREATE TABLE agent_commands (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  type TEXT NOT NULL,
  params TEXT,                          -- JSON
  jws TEXT NOT NULL,                    -- the signed command as sent
  status TEXT NOT NULL,                 -- pending | sent | completed | failed | refused | expired
  output TEXT,                          -- JSON
  error TEXT,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  completed_at INTEGER
);
CREATE INDEX agent_commands_agent ON agent_commands(agent_id, issued_at);
