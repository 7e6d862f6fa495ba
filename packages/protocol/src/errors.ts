import { z } from "zod";

/**
 * The closed registry of error codes. Each code has its HTTP status and a default message that says
 * what went wrong and what to do. Grouped by area prefix. docs/errors.md lists them; a test keeps
 * the two in step.
 */
export const ERROR_CODES = {
  // request shape
  validation_failed: { status: 400, message: "The request does not match the schema; see details for each problem." },
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  invalid_capability: { status: 400, message: "The capability string is malformed; use name[attr;key:value]." },
  invalid_cursor: {
    status: 400,
    message: "The pagination cursor is not one this server issued; start again without it.",
  },
  payload_too_large: { status: 413, message: "The request body is larger than the server accepts." },
  unsupported_media_type: { status: 415, message: "Send the body as application/json." },
  route_not_found: { status: 404, message: "No such route; see /openapi.json for the API." },
  payload_too_deep: {
    status: 400,
    message: "The JSON is nested deeper than the server accepts (see details for the limit); flatten it.",
  },
  uri_too_long: { status: 414, message: "The request URL is longer than the server accepts." },
  headers_too_large: { status: 431, message: "The request headers are larger than the server accepts." },
  invalid_url: { status: 400, message: "The request URL is malformed (bad percent-encoding or characters)." },
  request_timeout: {
    status: 408,
    message: "The request's headers or body did not arrive in time; the connection was closed. Retry.",
  },
  // auth
  auth_required: { status: 401, message: "Send Authorization: Bearer <key or token>." },
  auth_invalid: { status: 401, message: "The credential is unknown, expired or revoked." },
  auth_forbidden: { status: 403, message: "The credential is valid but lacks the scope for this action." },
  auth_login_failed: { status: 401, message: "Unknown user or wrong password." },
  auth_refresh_reused: {
    status: 401,
    message: "That refresh token was already used, so the session is revoked in case it was stolen; log in again.",
  },
  // users and keys
  user_not_found: { status: 404, message: "No user with that id." },
  user_exists: { status: 409, message: "A user with that username already exists; pick another." },
  user_self_lockout: { status: 409, message: "You cannot delete or deactivate yourself, or drop your own admin." },
  key_not_found: { status: 404, message: "No API key with that id is visible to this credential." },
  // jobs
  job_not_found: { status: 404, message: "No job with that id is visible to this credential." },
  job_not_cancellable: { status: 409, message: "The job is already terminal and cannot be cancelled." },
  job_not_retryable: { status: 409, message: "Only failed or cancelled jobs can be retried." },
  job_idempotency_conflict: {
    status: 409,
    message: "A job with this idempotency key exists with a different request; use a new key.",
  },
  // LLM (the OpenAI-compatible routes)
  model_not_found: { status: 404, message: "No agent online offers this model; GET /v1/models lists those that are." },
  llm_job_failed: {
    status: 502,
    message: "The job behind this request did not complete (failed on every attempt, or cancelled); see the job.",
  },
  // agents
  agent_not_found: { status: 404, message: "No agent with that id." },
  agent_certificate_invalid: {
    status: 401,
    message:
      "This server requires the agent's own client certificate (signed by its agent CA, for this agent id); re-enrol.",
  },
  agent_csr_invalid: { status: 400, message: "The certificate request (csr) is not a valid PEM PKCS#10 request." },
  agent_enrolment_invalid: {
    status: 401,
    message: "The enrolment key is unknown, revoked, expired or used up; ask an admin for one.",
  },
  agent_revoked: {
    status: 403,
    message: "This agent was revoked; delete its identity and register again with a new enrolment key.",
  },
  agent_lease_stale: {
    status: 409,
    message: "The job is no longer held by this agent at this epoch; drop the message.",
  },
  agent_job_unknown: { status: 404, message: "The job named in an agent message does not exist." },
  agent_protocol_error: { status: 400, message: "The agent message is malformed or out of order." },
  agent_protocol_version: {
    status: 400,
    message: "The agent speaks a protocol version this server does not; upgrade the agent or the server.",
  },
  agent_message_too_large: {
    status: 413,
    message: "The agent message is larger than the server accepts; split or truncate it.",
  },
  // files
  file_not_found: { status: 404, message: "No file with that hash or name is visible to this credential." },
  file_name_unsafe: {
    status: 400,
    message:
      "The file name is unsafe: use a relative path without empty, . or .. segments, backslashes or control characters.",
  },
  file_too_large: { status: 413, message: "The file is larger than the server's maximum file size." },
  file_quota_exceeded: {
    status: 413,
    message: "Storing this file would exceed your file quota; wait for unused files to be collected or ask an admin.",
  },
  file_range_not_satisfiable: { status: 416, message: "The requested byte range lies outside the file." },
  file_multipart_invalid: {
    status: 400,
    message: "The multipart submission is malformed: send a `job` field (JSON) first, then the files.",
  },
  // server
  rate_limited: { status: 429, message: "Too many requests; retry after the delay in Retry-After." },
  internal_error: { status: 500, message: "The server failed unexpectedly; the request may be retried." },
  unavailable: { status: 503, message: "The server is starting or shutting down; retry shortly." },
  storage_full: {
    status: 507,
    message: "The server's disk is full or its data directory is not writable; retry once space is freed.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

/** The one error envelope: every non-2xx response body. */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
export const ErrorEnvelope = z.object({ error: ErrorBody });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** An error with a registry code; the server turns it into the envelope, the SDK rebuilds it from one. */
export class GantryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code].message);
    this.name = "GantryError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
  toEnvelope(): ErrorEnvelope {
    const error: ErrorBody = { code: this.code, message: this.message };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
