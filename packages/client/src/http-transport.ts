import { type BackoffPolicy, backoffDelay } from "@gantry/protocol";
import type { z } from "zod";
import { resolveToken, type TokenSource } from "./credentials.ts";
import { errorFromResponse } from "./error-from-envelope.ts";
import { GantryNetworkError, ProtocolError, RateLimitedError, RequestTimeoutError } from "./errors.ts";
import { isRetryableError } from "./retryable.ts";
import { sleep } from "./sleep.ts";

export interface HttpTransportOptions {
  baseUrl: string;
  credential: TokenSource | undefined;
  fetch: typeof fetch;
  timeoutMs: number;
  /** Extra tries for requests marked retryable (0 = never retry). */
  retries: number;
  retryBackoff: BackoffPolicy;
}

export type Query = Record<string, string | number | undefined>;

export interface RequestSpec<T> {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
  /** The protocol schema the 2xx body must match. */
  schema: z.ZodType<T>;
  /** May this request be sent again after a transient failure (idempotent GETs, keyed submits)? */
  retryable: boolean;
  signal?: AbortSignal | undefined;
  /** Send the credential (default true; login and refresh carry their own). */
  auth?: boolean;
}

/** Longest Retry-After we honour before giving up on a retry and surfacing the 429. */
const MAX_RETRY_AFTER_MS = 30_000;

/** JSON over fetch: auth header, per-request timeout, typed errors, schema-checked responses, retries. */
export class HttpTransport {
  readonly #opts: HttpTransportOptions;
  readonly #base: string;

  constructor(opts: HttpTransportOptions) {
    this.#opts = opts;
    this.#base = opts.baseUrl.replace(/\/+$/, "");
  }

  get baseUrl(): string {
    return this.#base;
  }

  get credential(): TokenSource | undefined {
    return this.#opts.credential;
  }

  url(path: string, query?: Query): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.#base}${path}${qs ? `?${qs}` : ""}`;
  }

  async request<T>(spec: RequestSpec<T>): Promise<T> {
    const tries = spec.retryable ? this.#opts.retries + 1 : 1;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#once(spec);
      } catch (error) {
        if (attempt + 1 >= tries || !isRetryableError(error) || spec.signal?.aborted) throw error;
        let delay = backoffDelay(attempt, this.#opts.retryBackoff);
        if (error instanceof RateLimitedError && error.retryAfterMs !== undefined) {
          if (error.retryAfterMs > MAX_RETRY_AFTER_MS) throw error;
          delay = Math.max(delay, error.retryAfterMs);
        }
        await sleep(delay, spec.signal);
      }
    }
  }

  /**
   * Opens a streaming response (SSE). Resolves once the headers of a 2xx arrive; the timeout only
   * covers that wait, never the stream itself.
   */
  async stream(path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#opts.timeoutMs);
    try {
      const response = await this.#fetch(
        "GET",
        path,
        this.url(path),
        {
          headers: { ...(await this.#authHeaders()), ...headers },
          signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
        },
        signal,
        timeout.signal,
      );
      if (!response.ok) throw await errorFromResponse(response);
      return response;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A request the caller reads itself (file transfers): network errors typed, no timeout, no retry. */
  fetchRaw(method: string, path: string, url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    return this.#fetch(method, path, url, init, signal, new AbortController().signal);
  }

  /** The Authorization header for the current credential (none without one). */
  authHeaders(): Promise<Record<string, string>> {
    return this.#authHeaders();
  }

  async #once<T>(spec: RequestSpec<T>): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#opts.timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (spec.auth !== false) Object.assign(headers, await this.#authHeaders());
      if (spec.body !== undefined) headers["content-type"] = "application/json";
      const init: RequestInit = { method: spec.method, headers, signal };
      if (spec.body !== undefined) init.body = JSON.stringify(spec.body);
      const response = await this.#fetch(
        spec.method,
        spec.path,
        this.url(spec.path, spec.query),
        init,
        spec.signal,
        timeout.signal,
      );
      if (!response.ok) throw await errorFromResponse(response);
      let body: unknown = null; // 204: no content (schema z.null())
      try {
        if (response.status !== 204) body = await response.json();
      } catch (error) {
        if (timeout.signal.aborted) throw new RequestTimeoutError(spec.method, spec.path, this.#opts.timeoutMs);
        if (spec.signal?.aborted) throw spec.signal.reason;
        throw new ProtocolError(
          `${spec.method} ${spec.path} answered ${response.status} with a body that is not JSON`,
          error,
        );
      }
      const parsed = spec.schema.safeParse(body);
      if (!parsed.success) {
        throw new ProtocolError(
          `${spec.method} ${spec.path} answered a body that does not match the protocol`,
          parsed.error.issues,
        );
      }
      return parsed.data;
    } finally {
      clearTimeout(timer);
    }
  }

  async #fetch(
    method: string,
    path: string,
    url: string,
    init: RequestInit,
    userSignal: AbortSignal | undefined,
    timeoutSignal: AbortSignal,
  ): Promise<Response> {
    try {
      return await this.#opts.fetch(url, init);
    } catch (error) {
      if (userSignal?.aborted) throw userSignal.reason;
      if (timeoutSignal.aborted) throw new RequestTimeoutError(method, path, this.#opts.timeoutMs);
      throw networkError(method, path, error);
    }
  }

  async #authHeaders(): Promise<Record<string, string>> {
    const token = await resolveToken(this.#opts.credential);
    return token ? { authorization: `Bearer ${token}` } : {};
  }
}

/** undici puts the socket error under `cause` (possibly nested); browsers give a bare TypeError. */
function networkError(method: string, path: string, error: unknown): GantryNetworkError {
  let code: string | undefined;
  let detail = error instanceof Error ? error.message : String(error);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === "string") {
      code = c;
      detail = e.message;
      break;
    }
  }
  return new GantryNetworkError(`${method} ${path} failed: ${detail}`, code, { cause: error });
}
