import type pg from "pg";
import {
  type ApiKeyRow,
  type AuditRow,
  auditFromRow,
  auditIdBound,
  keyFromRow,
  type UserRow,
  userFromRow,
} from "../credential-rows.ts";
import type {
  ApiKeyRecord,
  AuditEntry,
  CredentialStore,
  Page,
  RefreshOutcome,
  UserPatch,
  UserRecord,
} from "../credential-store.ts";
import { inTransaction } from "./postgres-db.ts";

interface TokenRow {
  user_id: string;
  family_id: string;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

const SQL = {
  keyInsert: `INSERT INTO api_keys (id, kind, prefix, hash, owner, scopes, capabilities, name, created_at,
      expires_at, last_used_at, revoked_at, max_uses, uses)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
  keyByHash: "SELECT * FROM api_keys WHERE hash = $1",
  keyGet: "SELECT * FROM api_keys WHERE id = $1",
  keyList: "SELECT * FROM api_keys WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2",
  keyListOwner: "SELECT * FROM api_keys WHERE owner = $3 AND ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2",
  keyRevoke: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
  // Contract: at most one row, and only when its recorded use is older than the gap.
  keyTouch: `UPDATE api_keys SET last_used_at = $1 WHERE id = $2
    AND (last_used_at IS NULL OR last_used_at < $3)`,
  // Contract: the check and the count are one statement (the row lock makes a concurrent use re-check
  // uses < max_uses after the first commits), so N agents enrolling at once on any number of replicas
  // never spend more than max_uses.
  keyUse: `UPDATE api_keys SET uses = uses + 1, last_used_at = $1 WHERE hash = $2 AND kind = 'enrolment'
    AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) AND (max_uses IS NULL OR uses < max_uses)
    RETURNING *`,
  userInsert: `INSERT INTO users (id, username, password_hash, scopes, active, must_change_password, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  userByName: "SELECT * FROM users WHERE username = $1",
  userGet: "SELECT * FROM users WHERE id = $1",
  userList: "SELECT * FROM users WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2",
  userUpdate: `UPDATE users SET password_hash = COALESCE($2::text, password_hash),
      scopes = COALESCE($3::text, scopes), active = COALESCE($4::boolean, active),
      must_change_password = COALESCE($5::boolean, must_change_password), updated_at = $6
    WHERE id = $1 RETURNING *`,
  userDelete: "DELETE FROM users WHERE id = $1",
  userSessionsRevoke: "UPDATE refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
  refreshInsert: "INSERT INTO refresh_tokens (hash, user_id, family_id, expires_at) VALUES ($1, $2, $3, $4)",
  // Contract (rotation, first half): locks the presented token's row, so a second rotation of the same
  // token on any replica waits here and then sees it spent.
  refreshLock:
    "SELECT user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE hash = $1 FOR UPDATE",
  refreshSpend: "UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2",
  // Contract: when the token was already spent, revokes its family (every token of the session).
  familyReuse: "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE family_id = $2",
  familyRevoke: "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
  familyLive: "SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL LIMIT 1",
  auditInsert: "INSERT INTO audit_log (id, at, actor, action, target, details) VALUES ($1, $2, $3, $4, $5, $6)",
  auditList: "SELECT * FROM audit_log WHERE ($1::text IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
  // Contract: the oldest entries before the cutoff, at most the limit; `id < bound` keeps it a key range.
  auditPrune: `DELETE FROM audit_log WHERE id IN (
    SELECT id FROM audit_log WHERE id < $1 AND at < $2 ORDER BY id LIMIT $3)`,
};

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** The credential verbs of the PostgreSQL store; each write decides in its own statement or transaction. */
export class PostgresCredentials implements CredentialStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async #one<R, T>(sql: string, args: unknown[], map: (r: R) => T): Promise<T | undefined> {
    const row = (await this.#pool.query(sql, args)).rows[0] as R | undefined;
    return row === undefined ? undefined : map(row);
  }

  async insertApiKey(k: ApiKeyRecord): Promise<void> {
    await this.#pool.query(SQL.keyInsert, [
      k.id,
      k.kind,
      k.prefix,
      k.hash,
      k.owner,
      JSON.stringify(k.scopes),
      json(k.capabilities),
      k.name,
      k.createdAt,
      k.expiresAt,
      k.lastUsedAt,
      k.revokedAt,
      k.maxUses,
      k.uses,
    ]);
  }
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return this.#one(SQL.keyByHash, [hash], keyFromRow);
  }
  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#one(SQL.keyGet, [id], keyFromRow);
  }
  async listApiKeys(owner: string | null, page: Page): Promise<ApiKeyRecord[]> {
    const { rows } =
      owner === null
        ? await this.#pool.query<ApiKeyRow>(SQL.keyList, [page.after, page.limit])
        : await this.#pool.query<ApiKeyRow>(SQL.keyListOwner, [page.after, page.limit, owner]);
    return rows.map(keyFromRow);
  }
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    return this.#one(SQL.keyRevoke, [now, id], keyFromRow);
  }
  async touchApiKey(id: string, now: number, minGapMs: number): Promise<void> {
    await this.#pool.query(SQL.keyTouch, [now, id, now - minGapMs]);
  }
  useEnrolmentKey(hash: string, now: number): Promise<ApiKeyRecord | undefined> {
    return this.#one(SQL.keyUse, [now, hash], keyFromRow);
  }

  async insertUser(u: UserRecord): Promise<void> {
    await this.#pool.query(SQL.userInsert, [
      u.id,
      u.username,
      u.passwordHash,
      JSON.stringify(u.scopes),
      u.active,
      u.mustChangePassword,
      u.createdAt,
    ]);
  }
  findUserByName(name: string): Promise<UserRecord | undefined> {
    return this.#one(SQL.userByName, [name], userFromRow);
  }
  getUser(id: string): Promise<UserRecord | undefined> {
    return this.#one(SQL.userGet, [id], userFromRow);
  }
  async listUsers(page: Page): Promise<UserRecord[]> {
    return (await this.#pool.query<UserRow>(SQL.userList, [page.after, page.limit])).rows.map(userFromRow);
  }
  updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined> {
    return inTransaction(this.#pool, async (c) => {
      const { rows } = await c.query<UserRow>(SQL.userUpdate, [
        id,
        patch.passwordHash ?? null,
        patch.scopes ? JSON.stringify(patch.scopes) : null,
        patch.active ?? null,
        patch.mustChangePassword ?? null,
        now,
      ]);
      const row = rows[0];
      if (!row) return undefined;
      if (patch.active === false || patch.passwordHash !== undefined) {
        await c.query(SQL.userSessionsRevoke, [now, id]);
      }
      return userFromRow(row);
    });
  }
  deleteUser(id: string, now: number): Promise<boolean> {
    return inTransaction(this.#pool, async (c) => {
      await c.query(SQL.userSessionsRevoke, [now, id]);
      return (await c.query(SQL.userDelete, [id])).rowCount === 1;
    });
  }

  async insertRefreshToken(hash: string, userId: string, familyId: string, expiresAt: number): Promise<void> {
    await this.#pool.query(SQL.refreshInsert, [hash, userId, familyId, expiresAt]);
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: number, expiresAt: number): Promise<RefreshOutcome> {
    return inTransaction(this.#pool, async (c): Promise<RefreshOutcome> => {
      const t = (await c.query<TokenRow>(SQL.refreshLock, [oldHash])).rows[0];
      if (!t) return { kind: "invalid" };
      if (t.used_at !== null) {
        // Spent before: someone else holds a copy. The whole session ends.
        await c.query(SQL.familyReuse, [now, t.family_id]);
        return { kind: "reused", userId: t.user_id, familyId: t.family_id };
      }
      if (t.revoked_at !== null || t.expires_at <= now) return { kind: "invalid" };
      await c.query(SQL.refreshSpend, [now, oldHash]);
      await c.query(SQL.refreshInsert, [newHash, t.user_id, t.family_id, expiresAt]);
      return { kind: "rotated", userId: t.user_id, familyId: t.family_id };
    });
  }
  async revokeRefreshFamily(familyId: string, now: number): Promise<void> {
    await this.#pool.query(SQL.familyRevoke, [now, familyId]);
  }
  async sessionRevoked(familyId: string): Promise<boolean> {
    return (await this.#pool.query(SQL.familyLive, [familyId])).rows.length === 0;
  }

  async insertAudit(e: AuditEntry): Promise<void> {
    await this.#pool.query(SQL.auditInsert, [e.id, e.at, e.actor, e.action, e.target, json(e.details)]);
  }
  async listAudit(page: Page): Promise<AuditEntry[]> {
    return (await this.#pool.query<AuditRow>(SQL.auditList, [page.after, page.limit])).rows.map(auditFromRow);
  }
  async deleteAuditBefore(cutoff: number, limit: number): Promise<number> {
    return (await this.#pool.query(SQL.auditPrune, [auditIdBound(cutoff), cutoff, limit])).rowCount ?? 0;
  }
}
