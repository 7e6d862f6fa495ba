import type { AgentApi } from "../connection/agent-api.ts";

export interface TokenKeeperOptions {
  api: AgentApi;
  agentId: string;
  key: string;
  token: string;
  /** Seconds the token had left when obtained. */
  expiresIn: number;
  /** A new token arrived (persist it, hand it to the transport). */
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
    this.#lifetimeMs = lifetimeMs(options.expiresIn);
    this.#expiresAt = Date.now() + this.#lifetimeMs;
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
    this.#lifetimeMs = lifetimeMs(expiresIn);
    this.#expiresAt = Date.now() + this.#lifetimeMs;
    this.#o.onToken(token, expiresIn);
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

/**
 * How long a token can be counted on. A JWT's `exp` has whole-second resolution, so a token may
 * expire up to a second before `expiresIn` says; the server closes a link the moment it does.
 */
function lifetimeMs(expiresIn: number): number {
  return Math.max(expiresIn * 500, expiresIn * 1000 - 1000);
}
