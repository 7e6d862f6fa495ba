-- 007: the agent's session: which replica holds its current link (NULL when none), and a session
-- epoch that rises with every hello (see the PostgreSQL store's 002-cluster.sql).
ALTER TABLE agents ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN session_replica TEXT;
ALTER TABLE agents ADD COLUMN session_transport TEXT;
