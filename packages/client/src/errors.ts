import type { Job } from "@gantry/protocol";

/**
 * The SDK's error classes. API errors are rebuilt from the server's envelope by the one function in
 * error-from-envelope.ts; transport and wait errors are raised by the SDK itself.
 *
 * GantryApiError            any `{"error":{…}}` response
 *   ValidationError         400/413/415: the request was refused as malformed; nothing was written
 *   AuthError               401/403: the credential is the problem (catch this for both)
 *     ForbiddenError        403: valid credential without the scope (or a revoked agent)
 *   NotFoundError           404
 *     JobNotFoundError      404 job_not_found
 *   ConflictError           409: not cancellable, not retryable, idempotency conflict, stale lease
 *   RateLimitedError        429 (retryAfterMs from Retry-After)
 *   ServerError             5xx
 * GantryNetworkError        the request never got an HTTP answer (refused, reset, DNS, aborted)
 *   RequestTimeoutError     no answer within timeoutMs
 * ProtocolError             the server answered something our schemas do not accept
 * WaitTimeoutError          wait() gave up before the job became terminal
 * JobFailedError / JobCancelledError   waitForSuccess() saw the job end badly
 */
export class GantryApiError extends Error {
  /** The registry code (snake_case), e.g. `job_not_found`. Unknown codes are kept as sent. */
  readonly code: string;
  /** The HTTP status of the response. */
  readonly status: number;
  readonly details: unknown;
  constructor(code: string, status: number, message: string, details?: unknown) {
    super(message);
    this.name = "GantryApiError";
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export class ValidationError extends GantryApiError {
  override readonly name = "ValidationError";
}
/** 401 (missing, unknown or expired credential) and, as its subclass ForbiddenError, 403. */
export class AuthError extends GantryApiError {
  override readonly name: string = "AuthError";
}
export class ForbiddenError extends AuthError {
  override readonly name = "ForbiddenError";
}
export class NotFoundError extends GantryApiError {
  override readonly name: string = "NotFoundError";
}
export class JobNotFoundError extends NotFoundError {
  override readonly name = "JobNotFoundError";
}
export class ConflictError extends GantryApiError {
  override readonly name = "ConflictError";
}
export class RateLimitedError extends GantryApiError {
  override readonly name = "RateLimitedError";
  /** From the Retry-After header, when the server sent one. */
  retryAfterMs: number | undefined;
}
export class ServerError extends GantryApiError {
  override readonly name = "ServerError";
}

/** The request got no HTTP answer. `code` is the socket error code when the runtime exposes one. */
export class GantryNetworkError extends Error {
  override readonly name: string = "GantryNetworkError";
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class RequestTimeoutError extends GantryNetworkError {
  override readonly name = "RequestTimeoutError";
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${path} got no answer within ${timeoutMs} ms`, "ETIMEDOUT");
  }
}

/** A response that does not match the protocol schema: client and server disagree on the wire. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly issues: unknown;
  constructor(message: string, issues?: unknown) {
    super(message);
    this.issues = issues;
  }
}

/** wait() reached its timeoutMs; the job is still running on the server (it was not cancelled). */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
  readonly jobId: string;
  /** The job as last fetched, when the SDK managed to fetch it. */
  readonly job: Job | undefined;
  constructor(jobId: string, timeoutMs: number, job?: Job) {
    super(`job ${jobId} was not finished after ${timeoutMs} ms (last status: ${job?.status ?? "unknown"})`);
    this.jobId = jobId;
    this.job = job;
  }
}

export class JobFailedError extends Error {
  override readonly name = "JobFailedError";
  readonly job: Job;
  constructor(job: Job) {
    const why = job.error ? `${job.error.category}: ${job.error.message}` : "no error recorded";
    super(`job ${job.id} failed (${why})`);
    this.job = job;
  }
}

export class JobCancelledError extends Error {
  override readonly name = "JobCancelledError";
  readonly job: Job;
  constructor(job: Job) {
    super(`job ${job.id} was cancelled`);
    this.job = job;
  }
}

/** waitForWorkers() timed out before enough agents serving the capabilities were online. */
export class WorkerUnavailableError extends Error {
  override readonly name = "WorkerUnavailableError";
  /** The capabilities that still had fewer than `count` agents online. */
  readonly missing: string[];
  constructor(missing: string[], count: number, timeoutMs: number) {
    super(`no ${count} agent(s) online for ${missing.join(", ")} after ${timeoutMs} ms`);
    this.missing = missing;
  }
}
