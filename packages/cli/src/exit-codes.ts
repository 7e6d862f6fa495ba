import {
  AuthError,
  ConflictError,
  ForbiddenError,
  GantryApiError,
  GantryNetworkError,
  JobCancelledError,
  JobFailedError,
  NotFoundError,
  ProtocolError,
  ServerError,
  ValidationError,
  WaitTimeoutError,
} from "@gantry/client/errors"; // not the SDK's index: `gantry agent` loads this file and needs no SDK
import type { Job } from "@gantry/protocol";
import { CommanderError } from "commander";
import { EnvError } from "./env.ts";
import { StartupError } from "./startup-error.ts";
import { UsageError } from "./usage-error.ts";

/** The CLI's exit codes (docs/cli.md lists them). */
export const EXIT = {
  ok: 0,
  /** Unexpected failure (a bug, or a server answer the protocol does not allow). */
  error: 1,
  /** Bad flags or input, including the server's 400/413/415 validation errors. */
  usage: 2,
  /** The credential is missing, wrong, expired or lacks the scope (401/403). */
  auth: 3,
  /** No such job or route (404). */
  notFound: 4,
  /** The job is in the wrong state for that, or the idempotency key was reused (409). */
  conflict: 5,
  /** The server could not be reached, timed out, throttled us or failed (network, 429, 5xx). */
  unavailable: 6,
  /** `--wait`: the job ended `failed`. */
  jobFailed: 10,
  /** `--wait`: the job ended `cancelled`. */
  jobCancelled: 11,
  /** `--wait`: the job failed because a deadline passed (timeoutSecs, maxWaitSecs or runtimeSecs). */
  jobTimedOut: 12,
  /** `--wait-timeout` passed before the job ended; it is still on the server. */
  waitTimedOut: 13,
  /** Stopped by SIGINT/SIGTERM before finishing. */
  interrupted: 130,
} as const;

/** The exit code for a finished (or still running) job. */
export function exitCodeForJob(job: Job): number {
  switch (job.status) {
    case "completed":
      return EXIT.ok;
    case "cancelled":
      return EXIT.jobCancelled;
    case "failed":
      return job.error?.category === "timeout" ? EXIT.jobTimedOut : EXIT.jobFailed;
    default:
      return EXIT.waitTimedOut;
  }
}

/** The one mapping from an error to an exit code. */
export function exitCodeForError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError || error instanceof EnvError || error instanceof ValidationError) return EXIT.usage;
  if (error instanceof AuthError || error instanceof ForbiddenError) return EXIT.auth;
  if (error instanceof NotFoundError) return EXIT.notFound;
  if (error instanceof ConflictError) return EXIT.conflict;
  if (error instanceof ServerError || error instanceof GantryNetworkError) return EXIT.unavailable;
  if (error instanceof GantryApiError) return error.status === 429 ? EXIT.unavailable : EXIT.error;
  if (error instanceof WaitTimeoutError) return EXIT.waitTimedOut;
  if (error instanceof JobFailedError || error instanceof JobCancelledError) return exitCodeForJob(error.job);
  return EXIT.error;
}

/** One line for stderr: the server's code and message for API errors, no stack for expected failures. */
export function describeError(error: unknown): string {
  if (error instanceof GantryApiError) {
    const details = error.details === undefined ? "" : `\n${JSON.stringify(error.details, null, 2)}`;
    return `error: ${error.code} (HTTP ${error.status}): ${error.message}${details}`;
  }
  if (error instanceof GantryNetworkError) return `error: cannot reach the server: ${error.message}`;
  if (error instanceof ProtocolError) return `error: unexpected answer from the server: ${error.message}`;
  if (error instanceof Error) {
    const expected =
      error instanceof UsageError ||
      error instanceof EnvError ||
      error instanceof WaitTimeoutError ||
      error instanceof StartupError;
    return expected ? `error: ${error.message}` : `error: ${error.stack ?? error.message}`;
  }
  return `error: ${String(error)}`;
}
