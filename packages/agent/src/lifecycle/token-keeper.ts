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
    this.#expiresAt = tokenExpiresAt(options.expiresIn);
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
    this.#expiresAt = tokenExpiresAt(expiresIn);
    this.#lifetimeMs = this.#expiresAt - Date.now();
    this.#o.onToken(token, Math.floor(this.#expiresAt / 1000));
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
/** A clock ahead of the server's must not make every token look expired (a re-auth loop). */
const MIN_LIFETIME_MS = 10_000;

/**
 * When a token stops being usable, in ms since the epoch. The server answers `expiresIn` as the
 * token's absolute expiry in Unix seconds (OffloadMQ's meaning); a server whose clock is far from
 * ours still gets MIN_LIFETIME_MS, and a 4401 close makes us authenticate again regardless.
 */
export function tokenExpiresAt(expiresIn: number, now = Date.now()): number {
  const at = expiresIn >= ABSOLUTE_AFTER ? expiresIn * 1000 : now + expiresIn * 1000;
  return Math.max(at, now + MIN_LIFETIME_MS);
}
