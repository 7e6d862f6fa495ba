import type { AgentView, Job, JobEvent, LogLine } from "@gantry/protocol";

/** Output formats shared by the commands: JSON for machines, short aligned text for people. */

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function formatJob(job: Job): string {
  const rows: [string, string][] = [
    ["id", job.id],
    ["capability", job.capability],
    ["status", job.status + (job.cancelRequestedAt && !isDone(job) ? " (cancel requested)" : "")],
    ["priority", String(job.priority)],
    ["attempts", `${job.attempts.length}/${job.maxAttempts}`],
    ["created", job.createdAt],
  ];
  if (job.startedAt) rows.push(["started", job.startedAt]);
  if (job.endedAt) rows.push(["ended", job.endedAt]);
  if (job.agentId) rows.push(["agent", job.agentId]);
  if (job.progress) rows.push(["progress", formatProgress(job.progress)]);
  if (job.error) rows.push(["error", `${job.error.category}: ${job.error.message}`]);
  if (job.output !== undefined) rows.push(["output", JSON.stringify(job.output)]);
  return table(rows);
}

export function formatJobList(jobs: readonly Job[]): string {
  if (jobs.length === 0) return "no jobs\n";
  return table([
    ["ID", "STATUS", "CAPABILITY", "ATTEMPTS", "CREATED"],
    ...jobs.map((j) => [j.id, j.status, j.capability, `${j.attempts.length}/${j.maxAttempts}`, j.createdAt]),
  ]);
}

export function formatAgents(agents: readonly AgentView[]): string {
  if (agents.length === 0) return "no agents\n";
  return table([
    ["ID", "NAME", "ONLINE", "STATUS", "TIER", "RUNNING", "CAPABILITIES"],
    ...agents.map((a) => [
      a.id,
      a.displayName ?? a.name ?? "-",
      a.online ? "yes" : "no",
      a.status ?? "-",
      String(a.tier),
      `${a.runningJobs.length}/${a.capacity}`,
      a.capabilities.join(" "),
    ]),
  ]);
}

export function formatLogLine(line: Pick<LogLine, "seq" | "stream" | "line">): string {
  return `${line.stream === "stdout" ? "" : `[${line.stream}] `}${line.line}\n`;
}

/** One line per event, for `job watch` and `submit --wait` progress on stderr. */
export function formatEvent(event: JobEvent): string {
  switch (event.type) {
    case "status":
      return `${event.jobId} status ${event.status}\n`;
    case "progress":
      return `${event.jobId} progress ${formatProgress(event.progress)}\n`;
    case "log":
      return `${event.jobId} ${formatLogLine(event)}`;
    case "output":
      return `${event.jobId} output ready\n`;
    case "tokens":
      return ""; // the progress lines carry the text so far; `gantry llm` prints tokens as they come
  }
}

function formatProgress(p: NonNullable<Job["progress"]>): string {
  return [`${Math.round(p.percent)}%`, p.stage, p.message].filter(Boolean).join(" ");
}

function isDone(job: Job): boolean {
  return job.status === "completed" || job.status === "failed" || job.status === "cancelled";
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}
