import { GantryApiError, GantryNetworkError } from "./errors.ts";

/**
 * What is worth retrying, per transport, in one table (Buildkite `api/retryable.go`). Callers decide
 * whether a request may be retried at all (idempotent GETs, submits with an idempotencyKey); this
 * table only says whether a given failure is transient.
 */
export const RETRYABLE = {
  http: {
    /** Statuses that say "try again": timeouts, throttling, a restarting or overloaded server. */
    statuses: new Set([408, 425, 429, 500, 502, 503, 504]),
    /** Registry codes that are transient whatever their status. */
    codes: new Set(["rate_limited", "internal_error", "unavailable"]),
  },
  socket: {
    /** Node (libuv and undici) error codes for a request that got no HTTP answer. */
    codes: new Set([
      "ECONNREFUSED",
      "ECONNRESET",
      "ECONNABORTED",
      "EPIPE",
      "ETIMEDOUT",
      "EAI_AGAIN",
      "ENETUNREACH",
      "EHOSTUNREACH",
      "UND_ERR_SOCKET",
      "UND_ERR_CLOSED",
      "UND_ERR_CONNECT_TIMEOUT",
      "UND_ERR_HEADERS_TIMEOUT",
      "UND_ERR_BODY_TIMEOUT",
    ]),
    /** Browsers give fetch failures no code at all; treat them as transient. */
    unknownCodeRetryable: true,
  },
  /** Client watch socket close codes → what the JobWatcher does next. Unlisted codes reconnect. */
  websocketClose: {
    1002: "stop", // protocol error: our frames are wrong, reconnecting would repeat it
    1003: "stop",
    1007: "stop",
    1008: "stop",
    1009: "stop",
    4401: "reauth", // token invalid or expired: reconnect only if a token provider can mint a new one
    4403: "stop", // credential revoked
  } as Record<number, WebSocketCloseAction>,
} as const;

export type WebSocketCloseAction = "reconnect" | "reauth" | "stop";

/** Whether a failed HTTP request may succeed if sent again. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof GantryApiError) {
    return RETRYABLE.http.codes.has(error.code) || RETRYABLE.http.statuses.has(error.status);
  }
  if (error instanceof GantryNetworkError) {
    if (error.code === undefined) return RETRYABLE.socket.unknownCodeRetryable;
    return RETRYABLE.socket.codes.has(error.code);
  }
  return false;
}

export function webSocketCloseAction(code: number): WebSocketCloseAction {
  return RETRYABLE.websocketClose[code] ?? "reconnect";
}
