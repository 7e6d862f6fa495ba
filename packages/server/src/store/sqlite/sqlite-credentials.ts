import type Database from "better-sqlite3";
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
import type { GroupCommit } from "./group-commit.ts";

const maybe = <R, T>(row: unknown, map: (r: R) => T): T | undefined => (row === undefined ? undefined : map(row as R));

/** The credential verbs of the SQLite store; each write is one group-commit savepoint. */
export class SqliteCredentials implements CredentialStore {
  readonly #gc: GroupCommit;
  readonly #s;

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#gc = gc;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      keyInsert: p(`INSERT INTO api_keys (id, kind, prefix, hash, owner, scopes, capabilities, name, created_at,
          expires_at, last_used_at, revoked_at, max_uses, uses)
        VALUES (@id, @kind, @prefix, @hash, @owner, @scopes, @capabilities, @name, @createdAt,
          @expiresAt, @lastUsedAt, @revokedAt, @maxUses, @uses)`),
      keyByHash: p("SELECT * FROM api_keys WHERE hash = ?"),
      keyGet: p("SELECT * FROM api_keys WHERE id = ?"),
      keyList: p("SELECT * FROM api_keys WHERE id > ? ORDER BY id LIMIT ?"),
      keyListOwner: p("SELECT * FROM api_keys WHERE owner = ? AND id > ? ORDER BY id LIMIT ?"),
      keyRevoke: p("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING *"),
      // Contract: at most one row, and only when its recorded use is older than the gap.
      keyTouch: p(`UPDATE api_keys SET last_used_at = ? WHERE id = ?
        AND (last_used_at IS NULL OR last_used_at < ?)`),
      // Contract: the check and the count are one statement, so N agents enrolling at once on any
      // number of replicas never spend more than max_uses.
      keyUse: p(`UPDATE api_keys SET uses = uses + 1, last_used_at = ? WHERE hash = ? AND kind = 'enrolment'
        AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)
        RETURNING *`),
      userInsert: p(`INSERT INTO users (id, username, password_hash, scopes, active, must_change_password, created_at)
        VALUES (@id, @username, @passwordHash, @scopes, @active, @mustChangePassword, @createdAt)`),
      userByName: p("SELECT * FROM users WHERE username = ?"),
      userGet: p("SELECT * FROM users WHERE id = ?"),
      userList: p("SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?"),
      userUpdate: p(`UPDATE users SET password_hash = COALESCE(@passwordHash, password_hash),
          scopes = COALESCE(@scopes, scopes), active = COALESCE(@active, active),
          must_change_password = COALESCE(@mustChangePassword, must_change_password), updated_at = @now
        WHERE id = @id RETURNING *`),
      userDelete: p("DELETE FROM users WHERE id = ?"),
      userSessionsRevoke: p("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"),
      refreshInsert: p("INSERT INTO refresh_tokens (hash, user_id, family_id, expires_at) VALUES (?, ?, ?, ?)"),
      // Contract: spends one live token (unused, unrevoked, unexpired); RETURNING says whose.
      refreshSpend: p(`UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL
          AND revoked_at IS NULL AND expires_at > ?
        RETURNING user_id, family_id`),
      // Contract: when the token was already spent, revokes its family (every token of the session).
      refreshReuse: p(`UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, ?)
        WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE hash = ? AND used_at IS NOT NULL)
        RETURNING user_id, family_id`),
      familyRevoke: p("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL"),
      familyLive: p("SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NULL LIMIT 1"),
      auditInsert: p(`INSERT INTO audit_log (id, at, actor, action, target, details)
        VALUES (@id, @at, @actor, @action, @target, @details)`),
      auditList: p("SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?"),
      // Contract: the oldest entries before the cutoff, at most the limit; `id < bound` keeps it a key range.
      auditPrune: p(`DELETE FROM audit_log WHERE id IN (
        SELECT id FROM audit_log WHERE id < ? AND at < ? ORDER BY id LIMIT ?)`),
    };
  }

  insertApiKey(k: ApiKeyRecord): Promise<void> {
    return this.#gc.write(() => {
      this.#s.keyInsert.run({
        ...k,
        scopes: JSON.stringify(k.scopes),
        capabilities: k.capabilities === null ? null : JSON.stringify(k.capabilities),
      });
    });
  }
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(maybe(this.#s.keyByHash.get(hash), keyFromRow));
  }
  getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return Promise.resolve(maybe(this.#s.keyGet.get(id), keyFromRow));
  }
  listApiKeys(owner: string | null, page: Page): Promise<ApiKeyRecord[]> {
    const rows =
      owner === null
        ? this.#s.keyList.all(page.after ?? "", page.limit)
        : this.#s.keyListOwner.all(owner, page.after ?? "", page.limit);
    return Promise.resolve((rows as ApiKeyRow[]).map(keyFromRow));
  }
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    return this.#gc.write(() => maybe(this.#s.keyRevoke.get(now, id), keyFromRow));
  }
  touchApiKey(id: string, now: number, minGapMs: number): Promise<void> {
    return this.#gc.write(() => {
      this.#s.keyTouch.run(now, id, now - minGapMs);
    });
  }
  useEnrolmentKey(hash: string, now: number): Promise<ApiKeyRecord | undefined> {
    return this.#gc.write(() => maybe(this.#s.keyUse.get(now, hash, now), keyFromRow));
  }

  insertUser(u: UserRecord): Promise<void> {
    return this.#gc.write(() => {
      this.#s.userInsert.run({
        ...u,
        scopes: JSON.stringify(u.scopes),
        active: u.active ? 1 : 0,
        mustChangePassword: u.mustChangePassword ? 1 : 0,
      });
    });
  }
  findUserByName(name: string): Promise<UserRecord | undefined> {
    return Promise.resolve(maybe(this.#s.userByName.get(name), userFromRow));
  }
  getUser(id: string): Promise<UserRecord | undefined> {
    return Promise.resolve(maybe(this.#s.userGet.get(id), userFromRow));
  }
  listUsers(page: Page): Promise<UserRecord[]> {
    return Promise.resolve((this.#s.userList.all(page.after ?? "", page.limit) as UserRow[]).map(userFromRow));
  }
  updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined> {
    const bit = (b: boolean | undefined) => (b === undefined ? null : b ? 1 : 0);
    return this.#gc.write(() => {
      const user = maybe(
        this.#s.userUpdate.get({
          id,
          now,
          passwordHash: patch.passwordHash ?? null,
          scopes: patch.scopes ? JSON.stringify(patch.scopes) : null,
          active: bit(patch.active),
          mustChangePassword: bit(patch.mustChangePassword),
        }),
        userFromRow,
      );
      if (user && (patch.active === false || patch.passwordHash !== undefined)) {
        this.#s.userSessionsRevoke.run(now, id);
      }
      return user;
    });
  }
  deleteUser(id: string, now: number): Promise<boolean> {
    return this.#gc.write(() => {
      this.#s.userSessionsRevoke.run(now, id);
      return this.#s.userDelete.run(id).changes === 1;
    });
  }

  insertRefreshToken(hash: string, userId: string, familyId: string, expiresAt: number): Promise<void> {
    return this.#gc.write(() => {
      this.#s.refreshInsert.run(hash, userId, familyId, expiresAt);
    });
  }
  rotateRefreshToken(oldHash: string, newHash: string, now: number, expiresAt: number): Promise<RefreshOutcome> {
    return this.#gc.write((): RefreshOutcome => {
      const spent = this.#s.refreshSpend.get(now, oldHash, now) as { user_id: string; family_id: string } | undefined;
      if (spent) {
        this.#s.refreshInsert.run(newHash, spent.user_id, spent.family_id, expiresAt);
        return { kind: "rotated", userId: spent.user_id, familyId: spent.family_id };
      }
      const reused = this.#s.refreshReuse.all(now, oldHash) as { user_id: string; family_id: string }[];
      if (reused[0]) return { kind: "reused", userId: reused[0].user_id, familyId: reused[0].family_id };
      return { kind: "invalid" };
    });
  }
  revokeRefreshFamily(familyId: string, now: number): Promise<void> {
    return this.#gc.write(() => {
      this.#s.familyRevoke.run(now, familyId);
    });
  }
  sessionRevoked(familyId: string): Promise<boolean> {
    return Promise.resolve(this.#s.familyLive.get(familyId) === undefined);
  }

  insertAudit(e: AuditEntry): Promise<void> {
    return this.#gc.write(() => {
      this.#s.auditInsert.run({ ...e, details: e.details === null ? null : JSON.stringify(e.details) });
    });
  }
  listAudit(page: Page): Promise<AuditEntry[]> {
    const rows = this.#s.auditList.all(page.after ?? "\uffff", page.limit) as AuditRow[];
    return Promise.resolve(rows.map(auditFromRow));
  }
  deleteAuditBefore(cutoff: number, limit: number): Promise<number> {
    return this.#gc.write(() => this.#s.auditPrune.run(auditIdBound(cutoff), cutoff, limit).changes);
  }
}
