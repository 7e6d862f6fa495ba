/**
 * What is worth retrying, per transport, in one table (Buildkite `api/retryable.go`). Callers decide
 * whether a request may be sent again at all (idempotent GETs, keyed submits, agent messages that the
 * server dedupes); this table only says whether a given failure is transient.
 */
export const RETRYABLE = {
  http: {
    /** Statuses that say "try again": timeouts, throttling, a restarting, overloaded or full server. */
    statuses: new Set([408, 425, 429, 500, 502, 503, 504, 507]),
    /** Registry codes that are transient whatever their status. */
    codes: new Set(["rate_limited", "internal_error", "unavailable", "storage_full"]),
  },
  socket: {
    /** Node (libuv and undici) error codes for a request that got no HTTP answer. */
    codes: new Set([
      "ECONNREFUSED",
      "ECONNRESET",
      "ECONNABORTED",
      "EPIPE",
      "ETIMEDOUT",
      "EAI_AGAIN", // a DNS failure that may pass; ENOTFOUND (no such host) is not retried
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
  /** WebSocket close codes → what a client or agent does next. Unlisted codes reconnect. */
  websocketClose: {
    1002: "stop", // protocol error: our frames are wrong, reconnecting would repeat it
    1003: "stop",
    1007: "stop",
    1008: "stop",
    1009: "stop",
    4401: "reauth", // token invalid or expired: reconnect only with a fresh token
    4403: "stop", // credential revoked
  } as Record<number, WebSocketCloseAction>,
} as const;

export type WebSocketCloseAction = "reconnect" | "reauth" | "stop";

/** Whether an HTTP answer (or an agent `nack`) with this status and registry code may succeed if sent again. */
export function isRetryableStatus(status: number, code?: string): boolean {
  return RETRYABLE.http.statuses.has(status) || (code !== undefined && RETRYABLE.http.codes.has(code));
}

/** Whether a request that got no HTTP answer (socket error code, if any) may succeed if sent again. */
export function isRetryableSocketCode(code: string | undefined): boolean {
  return code === undefined ? RETRYABLE.socket.unknownCodeRetryable : RETRYABLE.socket.codes.has(code);
}

export function webSocketCloseAction(code: number): WebSocketCloseAction {
  return RETRYABLE.websocketClose[code] ?? "reconnect";
}
