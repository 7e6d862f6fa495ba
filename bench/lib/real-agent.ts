import type { ChildProcess } from "node:child_process";
import { type Children, nextMessage } from "./children.ts";

const REAL_AGENT_MAIN = new URL("./real-agent-main.ts", import.meta.url).pathname;

/** Starts one real agent process in its own temp folder (config, outbox, PID file). */
export function startRealAgent(
  children: Children,
  url: string,
  agentKey: string,
  opts: { capacity: number; capability: string; prefetch?: number; cpuProfDir?: string | undefined },
): ChildProcess {
  const dir = children.tempDir("agent");
  return children.fork(
    "gantry-agent",
    REAL_AGENT_MAIN,
    { url, agentKey, capacity: opts.capacity, prefetch: opts.prefetch ?? 0, capability: opts.capability, dir },
    {
      cwd: dir,
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir },
      execArgv: opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : [],
    },
  );
}

export async function waitRealAgentReady(p: ChildProcess): Promise<string> {
  const m = await nextMessage<{ type: string; agentId?: string; error?: string }>(
    p,
    (x) => x?.type === "ready" || x?.type === "failed",
    60_000,
  );
  if (m.type === "failed") throw new Error(`startAgent failed: ${m.error?.split("\n").slice(0, 3).join(" | ")}`);
  return m.agentId!;
}
