import { isRetryableError, sleep } from "@gantry/client";
import { backoffDelay, isTerminal } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { parseNonNegativeInteger, parsePositiveInteger } from "../option-parsers.ts";
import { formatLogLine } from "../output.ts";

/** Reconnect delays while following (the stream broke or the server ended it). */
const FOLLOW_RECONNECT = { baseMs: 250, capMs: 5000 };

interface LogsFlags extends ClientFlags {
  after?: number;
  limit?: number;
  follow?: boolean;
  json?: boolean;
}

/** `gantry job logs <id>` */
export function registerJobLogs(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("logs")
    .description("print a job's log lines")
    .argument("<id>", "job id")
    .option("--after <seq>", "only lines after this sequence number", parseNonNegativeInteger)
    .option("--limit <n>", "at most this many lines (without --follow)", parsePositiveInteger)
    .option("-f, --follow", "keep printing new lines until the job ends")
    .option("--json", "print one JSON log line object per line (NDJSON)");
  addClientFlags(command).action(async (id: string, flags: LogsFlags) => {
    const client = clientFromFlags(flags, ctx);
    const print = (line: { seq: number; stream: "stdout" | "stderr" | "system"; line: string; ts?: string }) =>
      ctx.stdout(flags.json ? `${JSON.stringify(line)}\n` : formatLogLine(line));
    let after = flags.after ?? 0;
    let remaining = flags.follow ? Number.POSITIVE_INFINITY : (flags.limit ?? Number.POSITIVE_INFINITY);
    // Page through what is stored so far.
    for (;;) {
      const page = await client.logs(id, {
        after,
        limit: Number.isFinite(remaining) ? Math.min(remaining, 1000) : 1000,
      });
      for (const line of page.lines) print(line);
      remaining -= page.lines.length;
      after = Math.max(after, page.nextAfter);
      if (page.lines.length === 0 || remaining <= 0) break;
    }
    if (!flags.follow) return;
    // Then follow live over SSE. Each (re)connect sends Last-Event-ID = the last line printed, and
    // the server replays what came after it: a dropped connection loses and repeats nothing.
    for (let attempt = 0; ; attempt++) {
      try {
        for await (const event of client.events(id, { lastEventId: String(after) })) {
          attempt = 0;
          if (event.type === "log" && event.seq > after) {
            after = event.seq;
            print(event);
          }
          if (event.type === "status" && isTerminal(event.status)) return;
        }
      } catch (err) {
        if (!isRetryableError(err)) throw err;
      }
      await sleep(backoffDelay(attempt, FOLLOW_RECONNECT));
    }
  });
}
