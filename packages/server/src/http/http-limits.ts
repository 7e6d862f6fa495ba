/**
 * Limits on what one HTTP request may cost the server before any route sees it. Slow clients
 * (slowloris: 200 connections dripping headers stayed open > 130 s) are cut off by the header and
 * request timeouts; idle keep-alive sockets by keepAliveTimeout. There is no socket inactivity
 * timeout: long-polls (≤ 60 s), SSE streams and WebSockets are legitimately quiet for long.
 */
export const HTTP_LIMITS = {
  /** Time to receive the request line and all headers. */
  headersTimeoutMs: 15_000,
  /** Time to receive a whole request, body included (1 MiB at a slow 35 KiB/s). */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: 10_000,
  /** How often Node checks the two timeouts above (its default, 30 s, doubles the slack). */
  checkIntervalMs: 1_000,
  /** Request line plus headers; larger gets 431 headers_too_large (Node's default, 16 KiB). */
  maxHeaderBytes: 16 * 1024,
  /** The URL (path and query); longer gets 414 uri_too_long. */
  maxUrlLength: 8 * 1024,
  /** One path parameter; longer gets 414 uri_too_long. */
  maxParamLength: 200,
} as const;
export type HttpLimits = { -readonly [K in keyof typeof HTTP_LIMITS]: number };
