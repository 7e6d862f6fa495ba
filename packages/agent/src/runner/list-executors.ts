import path from "node:path";
import { pathToFileURL } from "node:url";
import { inheritedEnv, readAgentEnv } from "../config/agent-env.ts";
import { AGENT_DEFAULTS } from "../config/agent-options.ts";
import { locateAgent } from "../config/locate-agent.ts";
import { BUILTIN_EXECUTORS } from "../executors/builtin-executors.ts";
import { executorSettings } from "./executor-settings.ts";
import type { DetectedExecutor } from "./worker-messages.ts";
import { WorkerPool } from "./worker-pool.ts";

export interface ListExecutorsOptions {
  configPath?: string | undefined;
  dataDir?: string | undefined;
  /** Extra plugin modules (else the config file's `executors`). */
  executors?: string[] | undefined;
  /** As `--allow-shell` would set it (else the config file's `allowShell`). */
  allowShell?: boolean | undefined;
}

/** A plugin path relative to the config file's folder becomes a file URL; URLs and package names stay. */
function moduleUrl(spec: string, baseDir: string): string {
  if (/^(\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/.test(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  return spec;
}

/**
 * `gantry agent executors`: every executor this agent would load, whether it can run here and why
 * not, detected exactly as a starting agent does (same settings, in a worker thread), without
 * registering or connecting.
 */
export async function listExecutors(options: ListExecutorsOptions = {}): Promise<DetectedExecutor[]> {
  const where = locateAgent({ configPath: options.configPath, dataDir: options.dataDir }, readAgentEnv());
  const plugins = (options.executors ?? where.config.executors ?? []).map((m) =>
    moduleUrl(m, path.dirname(where.configPath)),
  );
  const settings = executorSettings({
    allowShell: options.allowShell ?? where.config.allowShell ?? AGENT_DEFAULTS.allowShell,
    benchmarks: where.config.benchmarks ?? {},
    dataDir: where.dataDir,
    maxLogBytes: AGENT_DEFAULTS.maxLogBytes,
    maxOutputBytes: AGENT_DEFAULTS.maxOutputBytes,
    maxChildMemoryMb: AGENT_DEFAULTS.maxExecutorMemoryMb,
    abortGraceMs: AGENT_DEFAULTS.abortGraceMs,
    inheritEnv: inheritedEnv(),
    llm: { modelsDir: where.config.modelsDir ?? "", gpu: where.config.gpu ?? "auto" },
  });
  const pool = new WorkerPool(1, [...BUILTIN_EXECUTORS, ...plugins], undefined, 60_000, settings);
  try {
    return await pool.detect();
  } finally {
    await pool.close();
  }
}
