import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { capabilityName } from "@gantry/protocol";
import { inheritedEnv } from "../config/agent-env.ts";
import { BUILTIN_EXECUTORS } from "../executors/builtin-executors.ts";
import { unrunnableCapabilities } from "../runner/check-capabilities.ts";
import { executorSettings } from "../runner/executor-settings.ts";
import type { DetectedExecutor } from "../runner/worker-messages.ts";
import { WorkerPool } from "../runner/worker-pool.ts";
import { AgentStartError } from "./enrol.ts";
import { EXIT } from "./exit-codes.ts";
import type { AgentSettings } from "./resolve-settings.ts";

/** A plugin given as a file path (relative to the config file's folder) becomes a file URL; URLs and package names stay. */
function executorUrl(spec: string, baseDir: string): string {
  if (/^(\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/.test(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  return spec;
}

/** Merges explicit capabilities with detected ones; user attributes win for the same string. */
export function mergeCapabilities(detected: string[], given: string[]): string[] {
  const out = [...given];
  for (const c of detected) if (!out.some((g) => g === c || capabilityName(g) === capabilityName(c))) out.push(c);
  return out;
}

/** `name[attr;…]` for each executor that can run here. */
export function detectedCapabilities(usable: DetectedExecutor[]): string[] {
  return usable.map((d) => (d.attributes.length ? `${d.name}[${d.attributes.join(";")}]` : d.name));
}

/** The executor thread pool for the built-in and configured executor modules (warm() starts its first thread). */
export function createPool(s: AgentSettings): WorkerPool {
  const { o, file, configPath, capacity, logger } = s;
  const plugins = (o.executors ?? file.executors ?? []).map((m) => executorUrl(m, path.dirname(configPath)));
  const modules = [...(o.builtinExecutors ? BUILTIN_EXECUTORS : []), ...plugins];
  const threads = o.workerThreads ?? Math.max(1, Math.min(capacity, os.availableParallelism()));
  return new WorkerPool(
    threads,
    modules,
    (reason, lostJobs) => logger.warn({ lostJobs }, `${reason}; a new executor thread takes its place when needed`),
    o.workerIdleSecs * 1000,
    executorSettings({
      allowShell: o.allowShell ?? s.file.allowShell ?? false,
      benchmarks: o.benchmarks ?? s.file.benchmarks ?? {},
      dataDir: s.dataDir,
      maxLogBytes: o.maxLogBytes,
      maxOutputBytes: o.maxOutputBytes,
      maxChildMemoryMb: o.maxExecutorMemoryMb,
      abortGraceMs: o.abortGraceMs,
      inheritEnv: inheritedEnv(),
      llm: {
        modelsDir: o.modelsDir ?? file.modelsDir ?? "",
        gpu: o.gpu ?? file.gpu ?? "auto",
        maxLoadedModels: o.maxLoadedModels ?? file.maxLoadedModels ?? 1,
      },
    }),
  );
}

/**
 * Asks every executor whether it can run here and logs why not where one cannot. A given capability
 * (`--caps`) that no available executor serves stops the start, naming what can run. The thread that
 * detects is the pool's warm thread: it stays, so the first job does not wait for a thread start.
 */
export async function detectExecutors(pool: WorkerPool, s: AgentSettings): Promise<DetectedExecutor[]> {
  let detected: DetectedExecutor[];
  try {
    detected = await pool.warm();
  } catch (err) {
    throw new AgentStartError(`Cannot detect the executors: ${(err as Error).message}`, EXIT.error);
  }
  for (const d of detected)
    if (d.problem)
      s.logger.info({ capability: d.name, executor: d.executor, problem: d.problem }, "executor unavailable");
  const unrunnable = unrunnableCapabilities(s.givenCaps, detected);
  if (unrunnable) throw new AgentStartError(unrunnable, EXIT.usage);
  return detected.filter((d) => d.detected);
}
