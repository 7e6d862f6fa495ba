import {
  type CreateUserRequest,
  type ListUsersResponse,
  type PermissionName,
  TokenResponse,
  type User,
} from "@gantry/protocol";
import { z } from "zod";
import { AdminApi, type PageOptions } from "./admin-api.ts";
import { AuthError } from "./errors.ts";
import { CLIENT_DEFAULTS, GantryClient, type GantryClientOptions } from "./gantry-client.ts";
import { HttpTransport } from "./http-transport.ts";

export interface SessionManagerOptions {
  /** Server base URL. */
  url: string;
  /**
   * The fetch implementation.
   * @defaultValue globalThis.fetch
   */
  fetch?: typeof fetch | undefined;
  /**
   * Per-request timeout in ms.
   * @defaultValue 30_000
   */
  timeoutMs?: number | undefined;
  /**
   * Refresh the access token when less than this many ms of it remain.
   * @defaultValue 60_000
   */
  refreshMarginMs?: number | undefined;
  /**
   * Told each new refresh token (they rotate), and undefined on logout: a browser app keeps it
   * (e.g. in sessionStorage) to resume() the session after a page load.
   */
  onRefreshToken?: ((refreshToken: string | undefined) => void) | undefined;
  /** A session saved earlier (e.g. by `gantry login`): used, and refreshed, without logging in again. */
  session?: SessionTokens | undefined;
  /** Told each time the tokens change (login, refresh, logout), so they can be saved; refresh tokens rotate. */
  onSession?: ((session: SessionTokens | undefined) => void) | undefined;
}

export const SESSION_DEFAULTS = { refreshMarginMs: 60_000 } as const satisfies Required<
  Pick<SessionManagerOptions, "refreshMarginMs">
>;

/** The tokens of one login, as they can be saved and restored. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms at which the access token expires. */
  expiresAt: number;
}

/**
 * User login for the SDK (the CL client's SessionManager): `POST /v1/auth/login`, then an access
 * token refreshed through `POST /v1/auth/refresh` whenever less than a minute of it remains.
 * Clients made by createClient() ask for a valid token on every request and reconnect.
 */
export class SessionManager {
  readonly #http: HttpTransport;
  readonly #opts: SessionManagerOptions;
  readonly #marginMs: number;
  #session: SessionTokens | undefined;
  #refreshing: Promise<string> | undefined;

  constructor(opts: SessionManagerOptions) {
    this.#opts = opts;
    this.#marginMs = opts.refreshMarginMs ?? SESSION_DEFAULTS.refreshMarginMs;
    this.#session = opts.session;
    this.#http = new HttpTransport({
      baseUrl: opts.url,
      credential: undefined,
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
      retries: 0,
      retryBackoff: CLIENT_DEFAULTS.retryBackoff,
    });
  }

  isAuthenticated(): boolean {
    return this.#session !== undefined;
  }

  async login(username: string, password: string): Promise<void> {
    const tokens = await this.#http.request({
      method: "POST",
      path: "/v1/auth/login",
      body: { username, password },
      schema: TokenResponse,
      retryable: false,
      auth: false,
    });
    this.#store(tokens);
  }

  /** Trades the refresh token for a new pair now (refresh tokens rotate: the old one is spent). */
  refresh(): Promise<string> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** An access token with more than refreshMarginMs left, refreshing first if needed. */
  async getValidToken(): Promise<string> {
    const session = this.#session;
    if (!session) throw new AuthError("auth_required", 401, "not logged in: call login() first");
    if (session.expiresAt - Date.now() > this.#marginMs) return session.accessToken;
    return this.refresh();
  }

  /** Continues a session from a refresh token kept earlier (it is spent: a new pair is issued). */
  async resume(refreshToken: string): Promise<void> {
    this.#session = { accessToken: "", refreshToken, expiresAt: 0 };
    try {
      await this.refresh();
    } catch (err) {
      this.logout();
      throw err;
    }
  }

  /** The current tokens, to save them (undefined when logged out). */
  get session(): SessionTokens | undefined {
    return this.#session && { ...this.#session };
  }

  /** Forgets the tokens locally. */
  logout(): void {
    this.#session = undefined;
    this.#opts.onRefreshToken?.(undefined);
    this.#opts.onSession?.(undefined);
  }

  /** Ends the session on the server too (`POST /v1/auth/logout` revokes its refresh tokens), then forgets it. */
  async revoke(): Promise<void> {
    if (this.#session) {
      const http = new HttpTransport({
        baseUrl: this.#opts.url,
        credential: () => this.getValidToken(),
        fetch: this.#opts.fetch ?? globalThis.fetch.bind(globalThis),
        timeoutMs: this.#opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
        retries: 0,
        retryBackoff: CLIENT_DEFAULTS.retryBackoff,
      });
      await http.request({ method: "POST", path: "/v1/auth/logout", schema: z.null(), retryable: false });
    }
    this.logout();
  }

  /** User, key and audit management as this session's user (an admin for users and audit). */
  admin(): AdminApi {
    return new AdminApi({
      url: this.#opts.url,
      fetch: this.#opts.fetch,
      timeoutMs: this.#opts.timeoutMs,
      credential: () => this.getValidToken(),
    });
  }

  /** Creates a user (admins). */
  createUser(body: CreateUserRequest): Promise<User> {
    return this.admin().createUser(body);
  }

  /** One page of users (admins); pass the answer's `next` as `after` for the next page. */
  listUsers(q?: PageOptions): Promise<ListUsersResponse> {
    return this.admin().listUsers(q);
  }

  /** Replaces a user's permissions (admins). */
  updatePermissions(userId: string, permissions: PermissionName[]): Promise<User> {
    return this.admin().updateUser(userId, { permissions });
  }

  /** Deletes a user and ends its sessions (admins). */
  deleteUser(userId: string): Promise<void> {
    return this.admin().deleteUser(userId);
  }

  /** A GantryClient that authenticates with this session's (auto-refreshed) access token. */
  createClient(opts: Omit<GantryClientOptions, "url" | "apiKey" | "token"> = {}): GantryClient {
    return new GantryClient({
      fetch: this.#opts.fetch,
      timeoutMs: this.#opts.timeoutMs,
      ...opts,
      url: this.#opts.url,
      token: () => this.getValidToken(),
    });
  }

  async #doRefresh(): Promise<string> {
    const session = this.#session;
    if (!session) throw new AuthError("auth_required", 401, "not logged in: call login() first");
    const tokens = await this.#http.request({
      method: "POST",
      path: "/v1/auth/refresh",
      body: { refreshToken: session.refreshToken },
      schema: TokenResponse,
      retryable: false,
      auth: false,
    });
    this.#store(tokens);
    return tokens.accessToken;
  }

  #store(tokens: TokenResponse): void {
    this.#session = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + tokens.expiresIn * 1000,
    };
    this.#opts.onRefreshToken?.(tokens.refreshToken);
    this.#opts.onSession?.(this.session);
  }
}
