import { join } from "node:path";
import { startAgent } from "@gantry/agent";
import { exitWithParent } from "./children.ts";

/**
 * One real Gantry agent (`startAgent` from @gantry/agent) for the bench, in its own temp folder.
 * Argument: `{url, agentKey, capacity, capability, dir}`. Answers `{type:"ready", agentId}` over IPC once
 * its connection is ready, or `{type:"failed", error}`.
 */
const cfg = JSON.parse(process.argv[2]!) as {
  url: string;
  agentKey: string;
  capacity: number;
  prefetch: number;
  capability: string;
  dir: string;
};
try {
  const agent = await startAgent({
    server: cfg.url,
    key: cfg.agentKey,
    capacity: cfg.capacity,
    prefetch: cfg.prefetch,
    capabilities: cfg.capability.split(","),
    configPath: join(cfg.dir, "agent.json"),
    dataDir: join(cfg.dir, "data"),
    logLevel: "warn",
    print: () => {},
  });
  exitWithParent(() => agent.stop({ drainTimeoutMs: 0 }));
  const t0 = Date.now();
  while (agent.status().connection !== "ready") {
    if (Date.now() - t0 > 30_000) throw new Error(`connection stuck in ${agent.status().connection}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.send?.({ type: "ready", agentId: agent.agentId });
} catch (err) {
  process.send?.({ type: "failed", error: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
}
