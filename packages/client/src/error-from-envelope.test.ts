import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_CODES, type ErrorCode, webSocketCloseAction } from "@gantry/protocol";
import { errorFromEnvelope, parseRetryAfter } from "./error-from-envelope.ts";
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  GantryApiError,
  GantryNetworkError,
  JobNotFoundError,
  NotFoundError,
  RateLimitedError,
  ServerError,
  ValidationError,
} from "./errors.ts";
import { isRetryableError } from "./retryable.ts";

const envelope = (code: string, message = "m", details?: unknown) => ({ error: { code, message, details } });

describe("errorFromEnvelope", () => {
  it("maps every registry code to a typed class that keeps code, status, message and details", () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES) as [ErrorCode, { status: number }][]) {
      const error = errorFromEnvelope(status, envelope(code, "why", { field: "x" }));
      assert.ok(error instanceof GantryApiError);
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      assert.equal(error.message, "why");
      assert.deepEqual(error.details, { field: "x" });
      if (status >= 500) assert.ok(error instanceof ServerError, code);
    }
  });

  it("picks the class by code first, then status", () => {
    assert.ok(errorFromEnvelope(404, envelope("job_not_found")) instanceof JobNotFoundError);
    const route = errorFromEnvelope(404, envelope("route_not_found"));
    assert.ok(route instanceof NotFoundError && !(route instanceof JobNotFoundError));
    assert.ok(errorFromEnvelope(400, envelope("validation_failed")) instanceof ValidationError);
    assert.ok(errorFromEnvelope(413, envelope("payload_too_large")) instanceof ValidationError);
    assert.ok(errorFromEnvelope(401, envelope("auth_invalid")) instanceof AuthError);
    assert.ok(errorFromEnvelope(403, envelope("auth_forbidden")) instanceof ForbiddenError);
    assert.ok(errorFromEnvelope(409, envelope("job_not_cancellable")) instanceof ConflictError);
    assert.ok(errorFromEnvelope(503, envelope("unavailable")) instanceof ServerError);
  });

  it("reads Retry-After on 429", () => {
    const error = errorFromEnvelope(429, envelope("rate_limited"), new Headers({ "retry-after": "2" }));
    assert.ok(error instanceof RateLimitedError);
    assert.equal(error.retryAfterMs, 2000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
    assert.equal(parseRetryAfter(new Date(Date.now() - 1000).toUTCString()), 0);
  });

  it("still gives a typed error for a body that is not an envelope", () => {
    const error = errorFromEnvelope(502, "<html>bad gateway</html>");
    assert.ok(error instanceof ServerError);
    assert.equal(error.code, "http_502");
    const teapot = errorFromEnvelope(418, undefined);
    assert.equal(teapot.constructor, GantryApiError);
  });
});

describe("retryability table", () => {
  it("retries transient HTTP and socket failures only", () => {
    assert.equal(isRetryableError(errorFromEnvelope(503, envelope("unavailable"))), true);
    assert.equal(isRetryableError(errorFromEnvelope(429, envelope("rate_limited"))), true);
    assert.equal(isRetryableError(errorFromEnvelope(502, undefined)), true);
    assert.equal(isRetryableError(errorFromEnvelope(400, envelope("validation_failed"))), false);
    assert.equal(isRetryableError(errorFromEnvelope(404, envelope("job_not_found"))), false);
    assert.equal(isRetryableError(errorFromEnvelope(409, envelope("job_idempotency_conflict"))), false);
    assert.equal(isRetryableError(new GantryNetworkError("x", "ECONNREFUSED")), true);
    assert.equal(isRetryableError(new GantryNetworkError("x", "ENOTFOUND")), false);
    assert.equal(isRetryableError(new GantryNetworkError("x")), true);
    assert.equal(isRetryableError(new Error("x")), false);
  });

  it("maps watch socket close codes to an action", () => {
    assert.equal(webSocketCloseAction(1006), "reconnect");
    assert.equal(webSocketCloseAction(1012), "reconnect");
    assert.equal(webSocketCloseAction(4401), "reauth");
    assert.equal(webSocketCloseAction(4403), "stop");
    assert.equal(webSocketCloseAction(1008), "stop");
  });
});
