-- Accounts and trust (issue 11): user state, refresh-token families, key limits, the audit log.
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN updated_at INTEGER;

-- A family is one login session: every refresh token rotated from one login shares it. Reusing a
-- spent token revokes the whole family (someone else holds a copy).
ALTER TABLE refresh_tokens ADD COLUMN family_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN revoked_at INTEGER;
UPDATE refresh_tokens SET family_id = hash WHERE family_id IS NULL;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

ALTER TABLE api_keys ADD COLUMN capabilities TEXT;          -- JSON string[] of patterns; NULL = any
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN max_uses INTEGER;           -- enrolment keys: agents it may enrol; NULL = any
ALTER TABLE api_keys ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;
CREATE INDEX api_keys_owner ON api_keys (owner, id);

CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,                 -- ULID: time-ordered
  at INTEGER NOT NULL,
  actor TEXT,                          -- principal id, NULL when anonymous (a failed login)
  action TEXT NOT NULL,                -- e.g. user.create, key.revoke, auth.login_failed
  target TEXT,
  details TEXT                         -- JSON, never a secret
);

-- Uploads now need files:write; the bootstrap client key had the permissions of its day.
UPDATE api_keys SET scopes = json_insert(scopes, '$[#]', 'files:write')
  WHERE name = 'bootstrap client key' AND NOT EXISTS (SELECT 1 FROM json_each(api_keys.scopes) WHERE value = 'files:write');
