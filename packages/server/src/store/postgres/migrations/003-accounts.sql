-- 003: accounts and trust (SQLite's 006-accounts.sql, in PostgreSQL types): user state, refresh-token
-- families, key limits, the audit log.
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN updated_at bigint;

-- A family is one login session: every refresh token rotated from one login shares it. Reusing a
-- spent token revokes the whole family (someone else holds a copy).
ALTER TABLE refresh_tokens ADD COLUMN family_id text;
ALTER TABLE refresh_tokens ADD COLUMN revoked_at bigint;
UPDATE refresh_tokens SET family_id = hash WHERE family_id IS NULL;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

ALTER TABLE api_keys ADD COLUMN capabilities text;          -- JSON string[] of patterns; NULL = any
ALTER TABLE api_keys ADD COLUMN expires_at bigint;
ALTER TABLE api_keys ADD COLUMN last_used_at bigint;
ALTER TABLE api_keys ADD COLUMN max_uses integer;           -- enrolment keys: agents it may enrol; NULL = any
ALTER TABLE api_keys ADD COLUMN uses integer NOT NULL DEFAULT 0;
CREATE INDEX api_keys_owner ON api_keys (owner, id);

CREATE TABLE audit_log (
  id text PRIMARY KEY,                 -- ULID: time-ordered
  at bigint NOT NULL,
  actor text,                          -- principal id, NULL when anonymous (a failed login)
  action text NOT NULL,                -- e.g. user.create, key.revoke, auth.login_failed
  target text,
  details text                         -- JSON, never a secret
);

-- Uploads now need files:write; the bootstrap client key had the permissions of its day.
UPDATE api_keys SET scopes = (scopes::jsonb || '["files:write"]'::jsonb)::text
  WHERE name = 'bootstrap client key' AND NOT (scopes::jsonb ? 'files:write');
