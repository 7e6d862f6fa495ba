import { type GantryClient, WaitTimeoutError } from "@gantry/client";
import type { CliContext } from "./cli-context.ts";
import { EXIT, exitCodeForJob } from "./exit-codes.ts";
import { formatEvent, formatJob, toJson } from "./output.ts";

export interface WaitFlags {
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

/**
 * Shared by submit/cancel/retry --wait: follows the job (events to stderr unless --json), prints the
 * final job on stdout and sets the exit code from its outcome (see exit-codes.ts).
 */
export async function waitAndReport(
  client: GantryClient,
  id: string,
  flags: WaitFlags,
  ctx: CliContext,
): Promise<void> {
  try {
    const job = await client.wait(id, {
      timeoutMs: flags.waitTimeout === undefined ? undefined : flags.waitTimeout * 1000,
      onEvent: flags.json ? undefined : (event) => ctx.stderr(formatEvent(event)),
    });
    ctx.stdout(flags.json ? toJson(job) : formatJob(job));
    ctx.exitCode = exitCodeForJob(job);
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    if (error.job) ctx.stdout(flags.json ? toJson(error.job) : formatJob(error.job));
    ctx.stderr(`error: ${error.message}\n`);
    ctx.exitCode = EXIT.waitTimedOut;
  }
}
