import {
  ApiKey,
  type CreateApiKeyRequest,
  CreateApiKeyResponse,
  type CreateUserRequest,
  ListApiKeysResponse,
  ListAuditResponse,
  ListUsersResponse,
  type UpdateUserRequest,
  User,
} from "@gantry/protocol";
import { z } from "zod";
import type { TokenSource } from "./credentials.ts";
import { CLIENT_DEFAULTS } from "./gantry-client.ts";
import { HttpTransport } from "./http-transport.ts";

export interface AdminApiOptions {
  /** Server base URL. */
  url: string;
  /** An admin's access token (or a function returning a valid one), or a key with `keys:manage`. */
  credential: TokenSource;
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
}

/** One page: at most `limit` rows after the previous page's `next`. */
export interface PageOptions {
  limit?: number;
  after?: string;
}
const page = (q: PageOptions = {}) => ({ limit: q.limit, after: q.after });
const enc = encodeURIComponent;

/**
 * Users, keys, agent revocation and the audit log (`/v1/users`, `/v1/keys`, `/v1/agents/:id/revoke`,
 * `/v1/audit`). Changes are not retried: a lost answer is checked with a read, not sent again.
 */
export class AdminApi {
  readonly #http: HttpTransport;

  constructor(opts: AdminApiOptions) {
    this.#http = new HttpTransport({
      baseUrl: opts.url,
      credential: opts.credential,
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      timeoutMs: opts.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
      retries: CLIENT_DEFAULTS.retries,
      retryBackoff: CLIENT_DEFAULTS.retryBackoff,
    });
  }

  listUsers(q?: PageOptions): Promise<ListUsersResponse> {
    return this.#http.request({
      method: "GET",
      path: "/v1/users",
      query: page(q),
      schema: ListUsersResponse,
      retryable: true,
    });
  }
  getUser(id: string): Promise<User> {
    return this.#http.request({ method: "GET", path: `/v1/users/${enc(id)}`, schema: User, retryable: true });
  }
  createUser(body: CreateUserRequest): Promise<User> {
    return this.#http.request({ method: "POST", path: "/v1/users", body, schema: User, retryable: false });
  }
  updateUser(id: string, body: UpdateUserRequest): Promise<User> {
    return this.#http.request({ method: "PATCH", path: `/v1/users/${enc(id)}`, body, schema: User, retryable: false });
  }
  async deleteUser(id: string): Promise<void> {
    await this.#http.request({ method: "DELETE", path: `/v1/users/${enc(id)}`, schema: z.null(), retryable: false });
  }

  listKeys(q?: PageOptions): Promise<ListApiKeysResponse> {
    return this.#http.request({
      method: "GET",
      path: "/v1/keys",
      query: page(q),
      schema: ListApiKeysResponse,
      retryable: true,
    });
  }
  /** The answer's `key` is the secret, shown this once. */
  createKey(body: CreateApiKeyRequest): Promise<CreateApiKeyResponse> {
    return this.#http.request({
      method: "POST",
      path: "/v1/keys",
      body,
      schema: CreateApiKeyResponse,
      retryable: false,
    });
  }
  revokeKey(id: string): Promise<ApiKey> {
    return this.#http.request({ method: "DELETE", path: `/v1/keys/${enc(id)}`, schema: ApiKey, retryable: true });
  }

  async revokeAgent(id: string): Promise<void> {
    await this.#http.request({
      method: "POST",
      path: `/v1/agents/${enc(id)}/revoke`,
      schema: z.unknown(),
      retryable: true,
    });
  }

  audit(q?: PageOptions): Promise<ListAuditResponse> {
    return this.#http.request({
      method: "GET",
      path: "/v1/audit",
      query: page(q),
      schema: ListAuditResponse,
      retryable: true,
    });
  }
}
