import { GantryError } from "@gantry/protocol";
import { LRUCache } from "lru-cache";
import type { ApiKeyRecord, Store } from "../store/store.ts";
import { hashSecret, KEY_PREFIX } from "./secrets.ts";
import { type Tokens, USER_AUDIENCE } from "./tokens.ts";

export const SCOPES = ["jobs:read", "jobs:write", "agents:read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: an API key or a logged-in user. Jobs are owned by `owner`. */
export interface Principal {
  id: string;
  kind: "api_key" | "user";
  owner: string;
  scopes: string[];
}

/**
 * Bounds on the API-key cache. Unbounded, it grew with every random key tried (300k keys, +45 MiB).
 * Only keys that exist are cached, for a minute (so a revocation on another replica takes effect);
 * an unknown key costs one indexed lookup and is not remembered.
 */
export const KEY_CACHE = { max: 10_000, ttlMs: 60_000 } as const;

/** Resolves Bearer credentials to principals; lookups of existing API keys are cached (bounded LRU). */
export class Principals {
  readonly #store: Store;
  readonly #tokens: Tokens;
  readonly #keys: LRUCache<string, ApiKeyRecord>;
  /** With no-auth, who a request without credentials is; undefined when credentials are required. */
  readonly anonymous: Principal | undefined;

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
    if (credential.startsWith(KEY_PREFIX.client)) {
      const hash = hashSecret(credential);
      let key = this.#keys.get(hash);
      if (key === undefined) {
        key = await this.#store.findApiKeyByHash(hash);
        if (key) this.#keys.set(hash, key);
      }
      if (key?.kind !== "client" || key.revokedAt !== null) throw new GantryError("auth_invalid");
      return { id: key.id, kind: "api_key", owner: key.owner, scopes: key.scopes };
    }
    const claims = await this.#tokens.verify(credential, USER_AUDIENCE);
    if (!claims) throw new GantryError("auth_invalid");
    return { id: claims.sub, kind: "user", owner: claims.sub, scopes: claims.scopes };
  }

  /** A key was revoked (here or on another replica): the next use reads the store. */
  forgetKey(hash: string): void {
    this.#keys.delete(hash);
  }

  /** How many API keys are cached (for tests of the bound). */
  get cachedKeys(): number {
    return this.#keys.size;
  }
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes(scope) || p.scopes.includes("admin");
}

/** The principal of a credential-less request in no-auth mode: one client, never admin. */
export const ANONYMOUS: Principal = {
  id: "anonymous",
  kind: "api_key",
  owner: "anonymous",
  scopes: ["jobs:read", "jobs:write", "agents:read"],
};

/** Parses `Authorization: Bearer x`; returns undefined when absent. */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new GantryError("auth_required", "Authorization must be 'Bearer <key or token>'.");
  return m[1];
}
