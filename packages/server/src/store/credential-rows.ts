import { encodeTime } from "ulid";
import type { ApiKeyRecord, AuditEntry, UserRecord } from "./credential-store.ts";

/** The smallest ULID of time `ms`: every audit id minted before `ms` sorts below it. */
export function auditIdBound(ms: number): string {
  return encodeTime(Math.max(0, Math.floor(ms)), 10) + "0".repeat(16);
}

/** Credential rows as both stores return them, and their records: one copy for SQLite and PostgreSQL. */

export interface ApiKeyRow {
  id: string;
  kind: "client" | "enrolment";
  prefix: string;
  hash: string;
  owner: string;
  scopes: string;
  capabilities: string | null;
  name: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  max_uses: number | null;
  uses: number;
}

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  scopes: string;
  /** SQLite stores booleans as 0/1, PostgreSQL as booleans. */
  active: boolean | number;
  must_change_password: boolean | number;
  created_at: number;
}

export interface AuditRow {
  id: string;
  at: number;
  actor: string | null;
  action: string;
  target: string | null;
  details: string | null;
}

export const keyFromRow = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  kind: r.kind,
  prefix: r.prefix,
  hash: r.hash,
  owner: r.owner,
  scopes: JSON.parse(r.scopes),
  capabilities: r.capabilities === null ? null : JSON.parse(r.capabilities),
  name: r.name,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  maxUses: r.max_uses,
  uses: r.uses,
});

export const userFromRow = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  scopes: JSON.parse(r.scopes),
  active: Boolean(r.active),
  mustChangePassword: Boolean(r.must_change_password),
  createdAt: r.created_at,
});

export const auditFromRow = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  details: r.details === null ? null : JSON.parse(r.details),
});
