import { ErrorEnvelope } from "@gantry/protocol";
import {
  AuthError,
  ConflictError,
  ForbiddenError,
  GantryApiError,
  JobNotFoundError,
  NotFoundError,
  RateLimitedError,
  ServerError,
  ValidationError,
} from "./errors.ts";

type ApiErrorClass = new (code: string, status: number, message: string, details?: unknown) => GantryApiError;

/** Codes whose class is more specific than their status says. */
const BY_CODE: Record<string, ApiErrorClass> = {
  job_not_found: JobNotFoundError,
};

/** Everything else is classed by status; unknown 4xx stay GantryApiError, unknown 5xx are ServerError. */
const BY_STATUS: Record<number, ApiErrorClass> = {
  400: ValidationError,
  401: AuthError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  413: ValidationError,
  415: ValidationError,
  416: ValidationError,
  422: ValidationError,
  429: RateLimitedError,
};

/**
 * The one place an error envelope becomes a typed error. Accepts anything the server may have sent:
 * a body that is not an envelope (a proxy's HTML page, an empty body) still gives a typed error,
 * classed by status, with code `http_<status>`.
 */
export function errorFromEnvelope(status: number, body: unknown, headers?: Headers): GantryApiError {
  const parsed = ErrorEnvelope.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : `http_${status}`;
  const message = parsed.success ? parsed.data.error.message : `the server answered HTTP ${status}`;
  const details = parsed.success ? parsed.data.error.details : undefined;
  const Class = BY_CODE[code] ?? BY_STATUS[status] ?? (status >= 500 ? ServerError : GantryApiError);
  const error = new Class(code, status, message, details);
  if (error instanceof RateLimitedError) error.retryAfterMs = parseRetryAfter(headers?.get("retry-after"));
  return error;
}

/** Reads a non-2xx Response and turns it into a typed error (see errorFromEnvelope). */
export async function errorFromResponse(response: Response): Promise<GantryApiError> {
  let body: unknown;
  try {
    const text = await response.text();
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return errorFromEnvelope(response.status, body, response.headers);
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
