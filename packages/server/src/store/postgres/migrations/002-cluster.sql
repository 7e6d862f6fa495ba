-- 002: what replicas share beyond the queue. The agent's session: which replica holds its current
-- link (NULL when none), with a session epoch that rises with every hello, so a stale link on another
-- replica is known to be stale. And bus messages too big for a NOTIFY payload.
ALTER TABLE agents ADD COLUMN session_epoch integer NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN session_replica text;
ALTER TABLE agents ADD COLUMN session_transport text;
CREATE TABLE cluster_messages (
  id bigserial PRIMARY KEY,
  payload text NOT NULL,
  created_at bigint NOT NULL
);
