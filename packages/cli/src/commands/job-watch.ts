import type { Job } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { exitCodeForJob } from "../exit-codes.ts";
import { formatEvent } from "../output.ts";

interface WatchFlags extends ClientFlags {
  json?: boolean;
}

/** `gantry job watch <id…>`: one WebSocket for all the jobs, until every one has ended. */
export function registerJobWatch(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("watch")
    .description("stream the events of one or more jobs until all have ended; exits with the worst outcome")
    .argument("<ids...>", "job ids")
    .option("--json", "print each event, then each final job, as one JSON object per line (NDJSON)");
  addClientFlags(command).action(async (ids: string[], flags: WatchFlags) => {
    const client = clientFromFlags(flags, ctx);
    const watcher = client.watcher();
    const unique = [...new Set(ids)];
    const finished: Job[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        let left = unique.length;
        const done = () => {
          left--;
          if (left === 0) resolve();
        };
        watcher.on("watcher:connection:retrying", ({ attempt, delayMs }) => {
          if (!flags.json) ctx.stderr(`connection lost; reconnecting in ${delayMs} ms (attempt ${attempt})\n`);
        });
        watcher.subscribe(unique, {
          onEvent: (event) => ctx.stdout(flags.json ? `${JSON.stringify({ event })}\n` : formatEvent(event)),
          onComplete: (job) => {
            finished.push(job);
            ctx.stdout(flags.json ? `${JSON.stringify({ job })}\n` : `${job.id} ended ${job.status}\n`);
            done();
          },
          onError: (error, jobId) => (jobId === undefined ? reject(error) : reject(Object.assign(error, { jobId }))),
        });
      });
    } finally {
      watcher.close();
    }
    ctx.exitCode = Math.max(0, ...finished.map(exitCodeForJob));
  });
}
