import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { parseNonNegativeInteger, parsePositiveInteger } from "../option-parsers.ts";
import { formatLogLine } from "../output.ts";

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
    // Then follow live log events until the job ends, skipping lines already printed.
    await client.wait(id, {
      onEvent: (event) => {
        if (event.type !== "log" || event.seq <= after) return;
        after = event.seq;
        print(event);
      },
    });
    // Lines that raced the end of the stream.
    const tail = await client.logs(id, { after });
    for (const line of tail.lines) print(line);
  });
}
