import type { EventsTransport, GantryClient } from "@gantry/client";
import type { Job, JobProgress, LogLine } from "@gantry/protocol";
import { type Command, Option } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { exitCodeForJob } from "../exit-codes.ts";
import { formatLogLine } from "../output.ts";
import { jobBars } from "../progress-bar.ts";

interface WatchFlags extends ClientFlags {
  json?: boolean;
  events?: EventsTransport;
}

/** How often a running job's new log lines are fetched (they also are on every update and at the end). */
const LOG_INTERVAL_MS = 1000;

/**
 * `gantry job watch <id…>`: follows the jobs with the SDK's subscribeJobUpdates (MQTT when the
 * server has a broker, else the WebSocket, else polling), shows a progress bar per job and its log
 * lines, then each job's result; exits with the worst outcome (docs/cli.md, exit codes).
 */
export function registerJobWatch(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("watch")
    .description("follow jobs live (progress bar, log lines) until all have ended; exits with the worst outcome")
    .argument("<ids...>", "job ids")
    .addOption(
      new Option("--events <transport>", "the first transport to try; falls back mqtt → ws → poll").choices([
        "mqtt",
        "ws",
        "poll",
      ]),
    )
    .option("--json", "print the transport, each event and log line, then each final job, as NDJSON");
  addClientFlags(command).action(async (ids: string[], flags: WatchFlags) => {
    const client = clientFromFlags(flags, ctx, { events: flags.events });
    const out = (value: unknown) => ctx.stdout(`${JSON.stringify(value)}\n`);
    const bars = flags.json ? undefined : jobBars(ctx.stderr);
    client.on("events:transport:changed", ({ transport, previous }) => {
      if (flags.json) out({ transport });
      else bars?.log(previous ? `now following over ${transport} (was ${previous})` : `following over ${transport}`);
    });
    const finished: Job[] = [];
    try {
      await Promise.all(
        [...new Set(ids)].map((id) =>
          followOne(client, id, {
            status: (status) =>
              flags.json ? out({ event: { type: "status", jobId: id, status } }) : bars?.log(`${id} status ${status}`),
            progress: (p) =>
              flags.json
                ? out({ event: { type: "progress", jobId: id, progress: p } })
                : bars?.progress(id, p.percent, [p.stage, p.message].filter(Boolean).join(" ")),
            log: (l) =>
              flags.json ? out({ event: { type: "log", jobId: id, ...l } }) : bars?.log(`${id} ${formatLogLine(l)}`),
          }).then((job) => {
            finished.push(job);
            if (flags.json) return out({ job });
            bars?.log(`${id} ended ${job.status}`);
            ctx.stdout(formatResult(job));
          }),
        ),
      );
    } finally {
      bars?.stop();
      client.close();
    }
    ctx.exitCode = Math.max(0, ...finished.map(exitCodeForJob));
  });
}

interface Sink {
  status: (status: Job["status"]) => void;
  progress: (p: JobProgress) => void;
  log: (line: LogLine) => void;
}

/** One job: its updates in order, its log lines once each, then the finished job. */
function followOne(client: GantryClient, id: string, sink: Sink): Promise<Job> {
  let after = 0;
  let lastStatus: Job["status"] | undefined;
  let fetching: Promise<void> = Promise.resolve();
  const fetchLogs = () => {
    fetching = fetching.then(async () => {
      for (;;) {
        const page = await client.logs(id, { after }).catch(() => undefined);
        if (!page || page.lines.length === 0) return;
        for (const l of page.lines) sink.log(l);
        after = page.nextAfter;
      }
    });
    return fetching;
  };
  const timer = setInterval(() => void fetchLogs(), LOG_INTERVAL_MS);
  return new Promise<Job>((resolve, reject) => {
    client.subscribeJobUpdates(id, {
      onStatus: (s) => {
        lastStatus = s;
        sink.status(s);
        void fetchLogs();
      },
      onProgress: (p) => sink.progress(p),
      onComplete: async (job) => {
        clearInterval(timer);
        await fetchLogs();
        // A job that had ended before the watch began still shows its final status as an event.
        if (lastStatus !== job.status) sink.status(job.status);
        resolve(job);
      },
      onError: (error) => {
        clearInterval(timer);
        reject(Object.assign(error, { jobId: id }));
      },
    });
  });
}

/** The end of a watch: the result for a completed job, the error for a failed one. */
export function formatResult(job: Job): string {
  if (job.status === "completed")
    return `${job.id} completed: ${job.output === undefined ? "(no output)" : JSON.stringify(job.output)}\n`;
  if (job.status === "failed")
    return `${job.id} failed: ${job.error ? `${job.error.category}: ${job.error.message}` : "no error recorded"}\n`;
  return `${job.id} ${job.status}\n`;
}
