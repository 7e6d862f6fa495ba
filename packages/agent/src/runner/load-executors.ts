import type { Detection, Executor, ExecutorSettings } from "./executor.ts";
import { inChildProcess } from "./process-executor.ts";
import type { DetectedExecutor } from "./worker-messages.ts";

/** detect()'s answer in one shape (plugins may answer a plain boolean). */
async function detectOf(ex: Executor, settings: ExecutorSettings): Promise<Detection> {
  try {
    const d = await ex.detect(settings);
    if (d === true) return { available: true };
    if (d === false) return { available: false, reason: "detect() found nothing to run on this machine" };
    if (d && typeof d === "object" && typeof d.available === "boolean") return d;
    return { available: false, reason: "detect() returned neither a boolean nor a detection" };
  } catch (err) {
    return { available: false, reason: `detect() failed: ${(err as Error).message}` };
  }
}

/**
 * Imports executor modules, asks each to detect, and registers them by base capability in `into`
 * (`process` ones wrapped so their jobs run in child processes). Reports one entry per capability
 * (or per module that failed to load), available or not and why.
 */
export async function loadExecutors(
  modules: string[],
  settings: ExecutorSettings,
  into: Map<string, Executor>,
): Promise<DetectedExecutor[]> {
  const found: DetectedExecutor[] = [];
  for (const module of modules) {
    let ex: Executor | undefined;
    try {
      ex = ((await import(module)) as { default?: Executor }).default;
    } catch (err) {
      found.push({
        name: module,
        executor: module,
        attributes: [],
        detected: false,
        module,
        problem: (err as Error).message,
      });
      continue;
    }
    if (!ex || typeof ex.run !== "function" || typeof ex.name !== "string" || typeof ex.detect !== "function") {
      found.push({
        name: module,
        executor: module,
        attributes: [],
        detected: false,
        module,
        problem: "no default executor export",
      });
      continue;
    }
    const d = await detectOf(ex, settings);
    const isolation = ex.isolation === "process" ? "process" : "thread";
    const runnable = isolation === "process" ? inChildProcess(ex, module) : ex;
    const attributes = [...(ex.attributes ?? []), ...(d.available ? (d.attributes ?? []) : [])];
    for (const name of ex.capabilities ?? [ex.name]) {
      if (d.available) into.set(name, runnable);
      found.push({
        name,
        executor: ex.name,
        attributes,
        detected: d.available,
        module,
        isolation,
        ...(d.available ? {} : { problem: d.reason }),
      });
    }
  }
  return found;
}
