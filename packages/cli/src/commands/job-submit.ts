import { SubmitJobRequest } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { type FileArg, parseFileArg } from "../file-args.ts";
import { parseInteger, parseJson, parsePositiveInteger, parseSeconds } from "../option-parsers.ts";
import { toJson } from "../output.ts";
import { type Progress, progressBar } from "../progress-bar.ts";
import { UsageError } from "../usage-error.ts";
import { type WaitFlags, waitAndReport } from "../wait-and-report.ts";

interface SubmitFlags extends ClientFlags, WaitFlags {
  payload?: unknown;
  priority?: number;
  idempotencyKey?: string;
  timeout?: number;
  maxWait?: number;
  runtime?: number;
  maxAttempts?: number;
  json?: boolean;
  file?: FileArg[];
}

/** `gantry submit <capability>` (also `gantry job submit`). */
export function registerJobSubmit(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("submit")
    .description("submit a job; with --wait, follow it until it ends and exit with its outcome")
    .argument("<capability>", "capability to run, e.g. debug.echo or llm.mistral-7b[gpu]")
    .option("--payload <json>", "job payload as JSON, or @file to read it from a file", parseJson)
    .option(
      "--file <[name=]path>",
      "upload a file as a job input (repeatable); name=path gives it another name",
      parseFileArg,
    )
    .option("--priority <n>", "higher runs first (-1000..1000, default 0)", parseInteger)
    .option("--idempotency-key <key>", "resubmitting with the same key returns the same job (and makes retries safe)")
    .option("--timeout <secs>", "fail the job if it has not ended this many seconds after submission", parseSeconds)
    .option("--max-wait <secs>", "fail the job if no agent picks it up within this many seconds", parseSeconds)
    .option("--runtime <secs>", "limit each attempt's execution time (enforced by the agent)", parseSeconds)
    .option("--max-attempts <n>", "attempts before the job fails for good (default 3)", parsePositiveInteger)
    .option("--wait", "wait until the job ends; exit 0 only if it completed")
    .option(
      "--wait-timeout <secs>",
      "with --wait: give up waiting after this long (exit 13; the job keeps running)",
      parseSeconds,
    )
    .option("--json", "print the job as JSON (with --wait: only the final job)");
  addClientFlags(command).action(async (capability: string, flags: SubmitFlags) => {
    const parsed = SubmitJobRequest.safeParse({
      capability,
      payload: flags.payload,
      priority: flags.priority,
      idempotencyKey: flags.idempotencyKey,
      timeoutSecs: flags.timeout,
      maxWaitSecs: flags.maxWait,
      runtimeSecs: flags.runtime,
      maxAttempts: flags.maxAttempts,
    });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`);
      throw new UsageError(`invalid job: ${problems.join("; ")}`);
    }
    const client = clientFromFlags(flags, ctx);
    const bars = new Map<string, Progress>();
    const files = (flags.file ?? []).map((f) => ({ source: f.path, name: f.name }));
    let job: Awaited<ReturnType<typeof client.submit>>;
    try {
      job = await client.submit(stripUndefined(parsed.data), {
        files,
        onProgress: (name, p) => {
          let bar = bars.get(name);
          if (!bar) {
            bar = progressBar(`upload ${name}`);
            bars.set(name, bar);
          }
          bar.update(p.bytes, p.total);
        },
      });
    } finally {
      for (const bar of bars.values()) bar.stop();
    }
    if (!flags.wait) {
      ctx.stdout(flags.json ? toJson(job) : `${job.id} ${job.status}\n`);
      return;
    }
    if (!flags.json) ctx.stderr(`submitted ${job.id}\n`);
    await waitAndReport(client, job.id, flags, ctx);
  });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
