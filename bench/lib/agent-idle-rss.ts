import { spawn } from "node:child_process";
import { join } from "node:path";
import { GantryClient } from "@gantry/client";
import { agentBundle } from "../../packages/cli/bin/agent-bundle.js";
import type { Children } from "./children.ts";
import { rssMb } from "./proc-stats.ts";
import { startServerChild } from "./server-child.ts";
import { median, round } from "./stats.ts";

export interface AgentIdleRssResult {
  /** How the agent ran: the esbuild bundle or the TypeScript sources. */
  entry: string;
  /** `gantry agent` start → its capabilities listed by the server (ms). */
  startMs: number;
  /** RSS of the idle, connected agent process (median of samples over the window). */
  rssMb: number;
  rssMaxMb: number;
  /** submit → completed for the fresh agent's first no-op job, and the median of the next ones (ms). */
  firstJobMs: number;
  warmJobMs: number;
}

const GANTRY = new URL("../../packages/cli/bin/gantry.js", import.meta.url).pathname;

/**
 * A real `gantry agent` process (the CLI, as a user starts it), connected and idle: its resident
 * memory, then how long a fresh agent's first no-op job takes against the next ones (the cold start).
 */
export async function runAgentIdleRss(
  children: Children,
  o: { seconds: number; jobs: number },
  log: (line: string) => void,
): Promise<AgentIdleRssResult> {
  const server = await startServerChild(children);
  const dir = children.tempDir("cli-agent");
  const t0 = performance.now();
  const agent = spawn(
    process.execPath,
    [
      GANTRY,
      "agent",
      "--server",
      server.url,
      "--key",
      server.bootstrap.agentKey,
      "--capacity",
      "4",
      "--config",
      join(dir, "agent.json"),
      "--data",
      join(dir, "data"),
      "--log-level",
      "warn",
    ],
    { cwd: dir, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-5000);
  };
  agent.stdout.on("data", keep);
  agent.stderr.on("data", keep);
  try {
    const client = new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey });
    await client.waitForWorkers(["debug.echo"], { timeout: 60_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; agent said: ${output.slice(-2000)}`);
    });
    const startMs = performance.now() - t0;
    // Start-up allocations settle first.
    await new Promise((r) => setTimeout(r, 1000));
    const samples: number[] = [];
    const w0 = performance.now();
    while (performance.now() - w0 < o.seconds * 1000) {
      samples.push(rssMb(agent.pid!));
      await new Promise((r) => setTimeout(r, 200));
    }
    if (process.env.AGENT_MAPS) {
      const { readFileSync } = await import("node:fs");
      const maps = readFileSync(`/proc/${agent.pid}/maps`, "utf8");
      log(
        [
          ...new Set(
            maps
              .split("\n")
              .map((l) => l.split(/\s+/)[5])
              .filter((f) => f && /\.so|\.node/.test(f)),
          ),
        ].join("\n"),
      );
      log(
        readFileSync(`/proc/${agent.pid}/status`, "utf8")
          .match(/Threads.*|Rss\w+.*/g)!
          .join(" "),
      );
    }
    const once = async () => {
      const j0 = performance.now();
      const job = await client.submit("debug.echo", { n: 1 });
      const done = await client.wait(job.id);
      if (done.status !== "completed") throw new Error(`no-op job ended ${done.status}`);
      return performance.now() - j0;
    };
    const firstJobMs = await once();
    const warm: number[] = [];
    for (let i = 0; i < o.jobs; i++) warm.push(await once());
    const result = {
      entry: agentBundle() ? "bundle" : "sources",
      startMs: round(startMs),
      rssMb: round(median(samples), 1),
      rssMaxMb: round(Math.max(...samples), 1),
      firstJobMs: round(firstJobMs, 1),
      warmJobMs: round(median(warm), 1),
    };
    log(
      `gantry agent: started in ${result.startMs} ms, idle RSS ${result.rssMb} MB (max ${result.rssMaxMb}), ` +
        `first job ${result.firstJobMs} ms, then ${result.warmJobMs} ms`,
    );
    return result;
  } finally {
    const exited = new Promise((r) => agent.once("exit", r));
    agent.kill("SIGTERM");
    const kill = setTimeout(() => agent.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(kill);
    await server.stop();
  }
}
