/** A client API key or an agent-enrolment key; times in epoch milliseconds. */
export interface ApiKeyRecord {
  id: string;
  kind: "client" | "enrolment";
  prefix: string;
  hash: string;
  owner: string;
  scopes: string[];
  /** Capability patterns (`llm.*`, `ocr.tesseract`) the key may submit and see; null: any. */
  capabilities: string[] | null;
  name: string | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** Enrolment keys: how many agents it may enrol (1: single-use); null: no limit. */
  maxUses: number | null;
  uses: number;
}

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  /** The user's permissions (`admin` implies all). */
  scopes: string[];
  active: boolean;
  /** Set for the bootstrap admin: the login answer tells the user to change the password. */
  mustChangePassword: boolean;
  createdAt: number;
}

export interface UserPatch {
  passwordHash?: string;
  scopes?: string[];
  active?: boolean;
  mustChangePassword?: boolean;
}

/**
 * rotateRefreshToken's answer: rotated (the new token is stored in the same family), reused (the
 * token was already spent: the whole family is now revoked), or invalid (unknown, expired, revoked).
 */
export type RefreshOutcome =
  | { kind: "rotated"; userId: string; familyId: string }
  | { kind: "reused"; userId: string; familyId: string }
  | { kind: "invalid" };

export interface AuditEntry {
  id: string;
  at: number;
  actor: string | null;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

/** Keyset paging, newest first for audit, by id for users and keys. */
export interface Page {
  /** Exclusive cursor: the last id of the previous page. */
  after: string | null;
  limit: number;
}

/**
 * The credential verbs of a Store. Each write decides inside its own transaction: rotation and reuse
 * detection, enrolment-key use counts and revocations are conditional statements, safe with several
 * server replicas on one database.
 */
export interface CredentialStore {
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Keys by id; only `owner`'s when it is set. */
  listApiKeys(owner: string | null, page: Page): Promise<ApiKeyRecord[]>;
  /** Sets revokedAt (kept if already set); returns the key, or undefined when there is none. */
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Records a use at `now` only if the last recorded use is older than `minGapMs` (cheap, rare writes). */
  touchApiKey(id: string, now: number, minGapMs: number): Promise<void>;
  /**
   * Spends one use of an enrolment key, in one conditional statement: only if it exists, is an
   * enrolment key, is not revoked or expired and has uses left. Returns the key after, or undefined.
   */
  useEnrolmentKey(hash: string, now: number): Promise<ApiKeyRecord | undefined>;

  insertUser(user: UserRecord): Promise<void>;
  findUserByName(username: string): Promise<UserRecord | undefined>;
  getUser(id: string): Promise<UserRecord | undefined>;
  listUsers(page: Page): Promise<UserRecord[]>;
  /** Applies the patch; deactivating a user or changing its password revokes its sessions too. */
  updateUser(id: string, patch: UserPatch, now: number): Promise<UserRecord | undefined>;
  /** Deletes the user and revokes its sessions; false when there was none. */
  deleteUser(id: string, now: number): Promise<boolean>;

  insertRefreshToken(hash: string, userId: string, familyId: string, expiresAt: number): Promise<void>;
  /**
   * Spends `oldHash` and stores `newHash` in its family, or, if `oldHash` was already spent, revokes
   * the family. One transaction: two replicas given the same token never both rotate it.
   */
  rotateRefreshToken(oldHash: string, newHash: string, now: number, expiresAt: number): Promise<RefreshOutcome>;
  /** Revokes one session (logout). */
  revokeRefreshFamily(familyId: string, now: number): Promise<void>;
  /** Is the session revoked (or unknown)? Access tokens name their session, so logout ends them too. */
  sessionRevoked(familyId: string): Promise<boolean>;

  insertAudit(entry: AuditEntry): Promise<void>;
  /** Newest first; `after` is the last id of the previous page. */
  listAudit(page: Page): Promise<AuditEntry[]>;
  /**
   * Audit retention, one bounded step: deletes at most `limit` of the oldest entries recorded before
   * `cutoff` (epoch ms), in one statement, and returns how many. Entry ids are ULIDs of their `at`,
   * so the statement walks the primary key from the oldest; replicas sweeping at once never collide.
   */
  deleteAuditBefore(cutoff: number, limit: number): Promise<number>;
}
