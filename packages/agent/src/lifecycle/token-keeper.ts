import type { AgentApi } from "../connection/agent-api.ts";

export interface TokenKeeperOptions {
  api: AgentApi;
  agentId: string;
  key: string;
  token: string;
  /** The token's expiry as the server tells it: absolute Unix seconds (see tokenExpiresAt). */
  expiresIn: number;
  /** A new token arrived (persist it, hand it to the transport); expiresIn is absolute Unix seconds. */
  onToken(token: string, expiresIn: number): void;
  /** Time to renew over the live connection (`token:refresh`); ignored while not connected. */
  onRefreshDue(): void;
}

/**
 * The agent's access token: renewed over the live connection at ~80% of its lifetime, and over
 * HTTP (`/agent/auth`) before a connect when it is close to expiry or the server refused it.
 */
export class TokenKeeper {
  readonly #o: TokenKeeperOptions;
  #token: string;
  #expiresAt: number;
  #lifetimeMs: number;
  #forceAuth = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TokenKeeperOptions) {
    this.#o = options;
    this.#token = options.token;
    this.#expiresAt = tokenExpiresAt(options.token, options.expiresIn);
    this.#lifetimeMs = this.#expiresAt - Date.now();
  }

  get token(): string {
    return this.#token;
  }

  /** The server refused the token (close 4401): authenticate again before the next connect. */
  invalidate(): void {
    this.#forceAuth = true;
  }

  /** Authenticates over HTTP unless the token has more than max(30 s, 20% of its lifetime) left. */
  async ensure(): Promise<void> {
    const left = this.#expiresAt - Date.now();
    if (!this.#forceAuth && left > Math.max(30_000, this.#lifetimeMs * 0.2)) return;
    const res = await this.#o.api.auth(this.#o.agentId, this.#o.key);
    this.#forceAuth = false;
    this.set(res.token, res.expiresIn);
  }

  set(token: string, expiresIn: number): void {
    this.#token = token;
    this.#expiresAt = tokenExpiresAt(token, expiresIn);
    this.#lifetimeMs = this.#expiresAt - Date.now();
    this.#o.onToken(token, expiresIn < ABSOLUTE_AFTER ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
    this.scheduleRefresh();
  }

  /** Arms the live renewal at ~80% of the token's lifetime. */
  scheduleRefresh(): void {
    if (this.#timer) clearTimeout(this.#timer);
    const delay = Math.max(1000, this.#expiresAt - Date.now() - this.#lifetimeMs * 0.2);
    this.#timer = setTimeout(() => this.#o.onRefreshDue(), Math.min(delay, 2 ** 31 - 1));
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/** Below this, `expiresIn` is read as seconds-from-now: what Gantry servers before 0.2 answered. */
const ABSOLUTE_AFTER = 1_000_000_000;

/**
 * When a token stops being usable, in ms since the epoch on OUR clock. The server answers
 * `expiresIn` as the token's absolute expiry in Unix seconds (OffloadMQ's meaning), which is on the
 * server's clock; so the lifetime is taken from the JWT itself (`exp - iat`, both server time) when
 * it has them, and only otherwise from `expiresIn` against our clock. `exp` has whole-second
 * resolution, so a token may die up to a second early: count on a second less (at most half).
 */
export function tokenExpiresAt(token: string, expiresIn: number, now = Date.now()): number {
  const claims = jwtTimes(token);
  const lifetimeMs = claims
    ? (claims.exp - claims.iat) * 1000
    : expiresIn < ABSOLUTE_AFTER
      ? expiresIn * 1000
      : expiresIn * 1000 - now;
  return now + Math.max(lifetimeMs * 0.5, lifetimeMs - 1000);
}

/** `iat` and `exp` of a JWT, read without verifying it (the server checks tokens, not us). */
function jwtTimes(token: string): { iat: number; exp: number } | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      iat?: unknown;
      exp?: unknown;
    };
    const { iat, exp } = claims;
    return typeof iat === "number" && typeof exp === "number" && exp > iat ? { iat, exp } : undefined;
  } catch {
    return undefined;
  }
}
