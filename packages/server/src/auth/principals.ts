import { GantryError } from "@gantry/protocol";
import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, Store, UserRecord } from "../store/store.ts";
import { hashSecret, KEY_PREFIX } from "./secrets.ts";
import { type Tokens, USER_AUDIENCE } from "./tokens.ts";

export { PERMISSIONS as SCOPES, type PermissionName as Scope } from "@gantry/protocol";

/**
 * Who is calling: an API key or a logged-in user. Jobs, files and events belong to `owner`. This
 * class is the one place that turns a credential into a principal (HTTP, WebSocket, MQTT alike).
 */
export interface Principal {
  /** The key's id, or the user's id. */
  id: string;
  kind: "api_key" | "user";
  owner: string;
  scopes: string[];
  /** Capability patterns it may submit and see (`llm.*`); null: any. */
  capabilities: string[] | null;
  username: string | null;
  /** User tokens: the login session they belong to. */
  sessionId: string | null;
  /** When the credential itself ends (the access token's `exp`, the key's expiry), epoch ms; null: never. */
  expiresAt?: number | null;
}

/**
 * Bounds on the API-key cache. Unbounded, it grew with every random key tried (300k keys, +45 MiB).
 * Only keys that exist are cached, for a minute (so a revocation on another replica takes effect);
 * an unknown key costs one indexed lookup and is not remembered. A revocation on this replica
 * invalidates the entry at once.
 */
export const KEY_CACHE = { max: 10_000, ttlMs: 60_000 } as const;
/** A session (user + whether logged out) is cached for 10 s; logout and user changes here invalidate it. */
const SESSION_CACHE = { max: 10_000, ttlMs: 10_000 } as const;
/** lastUsedAt is written at most once a minute per key, so using a key costs no write per request. */
export const LAST_USED_GAP_MS = 60_000;

interface Session {
  user: UserRecord | undefined;
  revoked: boolean;
}

/** Resolves Bearer credentials to principals; lookups of existing API keys are cached (bounded LRU). */
export class Principals {
  readonly #store: Store;
  readonly #tokens: Tokens;
  readonly #keys: LRUCache<string, ApiKeyRecord>;
  /** With no-auth, who a request without credentials is; undefined when credentials are required. */
  readonly anonymous: Principal | undefined;
  readonly #sessions = new LRUCache<string, Session>({ max: SESSION_CACHE.max, ttl: SESSION_CACHE.ttlMs });

  constructor(
    store: Store,
    tokens: Tokens,
    cache: { max: number; ttlMs: number } = KEY_CACHE,
    opts: { noAuth?: boolean } = {},
  ) {
    this.#store = store;
    this.#tokens = tokens;
    this.#keys = new LRUCache({ max: cache.max, ttl: cache.ttlMs });
    this.anonymous = opts.noAuth ? ANONYMOUS : undefined;
  }

  async fromBearer(credential: string): Promise<Principal> {
    if (credential.startsWith(KEY_PREFIX.client)) return this.#fromKey(credential);
    const claims = await this.#tokens.verify(credential, USER_AUDIENCE);
    if (!claims?.sid) throw new GantryError("auth_invalid");
    let session = this.#sessions.get(claims.sid);
    if (session === undefined) {
      const [user, revoked] = await Promise.all([
        this.#store.getUser(claims.sub),
        this.#store.sessionRevoked(claims.sid),
      ]);
      session = { user, revoked };
      this.#sessions.set(claims.sid, session);
    }
    const user = session.user;
    if (session.revoked || !user || !user.active || user.id !== claims.sub) throw new GantryError("auth_invalid");
    // Permissions come from the user as it is now, not as it was at login.
    return {
      id: user.id,
      kind: "user",
      owner: user.id,
      scopes: user.scopes,
      capabilities: null,
      username: user.username,
      sessionId: claims.sid,
      expiresAt: claims.exp * 1000,
    };
  }

  async #fromKey(credential: string): Promise<Principal> {
    const hash = hashSecret(credential);
    let key = this.#keys.get(hash);
    if (key === undefined) {
      key = await this.#store.findApiKeyByHash(hash);
      if (key) this.#keys.set(hash, key);
    }
    const now = Date.now();
    if (key?.kind !== "client" || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      throw new GantryError("auth_invalid");
    }
    if (key.lastUsedAt === null || key.lastUsedAt < now - LAST_USED_GAP_MS) {
      key.lastUsedAt = now;
      // Best effort and off the request's path: a failed touch must not fail the request.
      this.#store.touchApiKey(key.id, now, LAST_USED_GAP_MS).catch(() => {});
    }
    return {
      id: key.id,
      kind: "api_key",
      owner: key.owner,
      scopes: key.scopes,
      capabilities: key.capabilities,
      username: null,
      sessionId: null,
      expiresAt: key.expiresAt,
    };
  }

  /**
   * Is a principal resolved earlier still good? Asks the store, not the caches: live sockets call
   * this on a timer so a revocation, expiry, logout or deactivation closes them.
   */
  async stillValid(p: Principal): Promise<boolean> {
    if (p === this.anonymous) return true; // no-auth mode: nothing to revoke
    if (p.kind === "api_key") {
      const key = await this.#store.getApiKey(p.id);
      return key !== undefined && key.revokedAt === null && (key.expiresAt === null || key.expiresAt > Date.now());
    }
    if (p.sessionId === null || (await this.#store.sessionRevoked(p.sessionId))) return false;
    const user = await this.#store.getUser(p.id);
    return user?.active === true;
  }

  /** Forgets one session (logout) or, without an id, every cached session (a user changed). */
  forgetSessions(sessionId?: string): void {
    if (sessionId === undefined) this.#sessions.clear();
    else this.#sessions.delete(sessionId);
  }

  /** A key was revoked (here, or on another replica via the cluster bus): the next use reads the store. */
  forgetKey(hash: string): void {
    this.#keys.delete(hash);
  }

  /** How many API keys are cached (for tests of the bound). */
  get cachedKeys(): number {
    return this.#keys.size;
  }
}

export function hasScope(p: Principal, scope: string): boolean {
  return p.scopes.includes(scope) || p.scopes.includes("admin");
}

/** The principal of a credential-less request in no-auth mode: one client, never admin. */
export const ANONYMOUS: Principal = {
  id: "anonymous",
  kind: "api_key",
  owner: "anonymous",
  scopes: ["jobs:read", "jobs:write", "agents:read", "files:write"],
  capabilities: null,
  username: null,
  sessionId: null,
};
export function isAdmin(p: Principal): boolean {
  return p.scopes.includes("admin");
}

/** Parses `Authorization: Bearer x`; returns undefined when absent. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new GantryError("auth_required", "Authorization must be 'Bearer <key or token>'.");
  return m[1];
}
