import { parseCapability } from "@gantry/protocol";
import { BUILTIN_LOADERS } from "../executors/builtin-executors.ts";
import type { Detection, Executor, ExecutorSettings } from "./executor.ts";
import { importExecutor } from "./import-executor.ts";
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

/** The capabilities an executor serves: what detection found, else what it declares. */
function served(ex: Executor, d: Detection): Array<{ name: string; attributes: string[] }> {
  const found = d.available && Array.isArray(d.capabilities) ? d.capabilities : undefined;
  if (!found) {
    const declared = Array.isArray(ex.capabilities) ? ex.capabilities : [ex.name];
    return declared.filter((c) => typeof c === "string").map((name) => ({ name, attributes: [] }));
  }
  const out: Array<{ name: string; attributes: string[] }> = [];
  for (const c of found) {
    try {
      const p = parseCapability(c);
      out.push({ name: p.name, attributes: c.includes("[") ? c.slice(c.indexOf("[") + 1, -1).split(";") : [] });
    } catch {
      // a malformed capability from detection is skipped, not advertised
    }
  }
  return out;
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
      ex = ((await importExecutor(module)) as { default?: Executor }).default;
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
    try {
      found.push(...register(ex, module, await detectOf(ex, settings), into));
    } catch (err) {
      // A plugin shaped wrongly (attributes that are not strings…) is unavailable, never fatal.
      const problem = `not a usable executor: ${(err as Error).message}`;
      found.push({ name: ex.name, executor: ex.name, attributes: [], detected: false, module, problem });
    }
  }
  return found;
}

/** Registers an executor under each capability it serves (when available) and reports each. */
function register(ex: Executor, module: string, d: Detection, into: Map<string, Executor>): DetectedExecutor[] {
  const isolation = ex.isolation === "process" ? "process" : "thread";
  const runnable = isolation === "process" ? inChildProcess(ex, module) : ex;
  const common = [...(ex.attributes ?? []), ...(d.available ? (d.attributes ?? []) : [])].map(String);
  const out: DetectedExecutor[] = [];
  for (const cap of served(ex, d)) {
    if (d.available) into.set(cap.name, runnable);
    out.push({
      name: cap.name,
      executor: ex.name,
      attributes: [...common, ...cap.attributes],
      detected: d.available,
      module,
      isolation,
      ...(ex.light === true && isolation === "thread" && BUILTIN_LOADERS.has(module) ? { light: true } : {}),
      ...(d.available ? {} : { problem: d.reason }),
    });
  }
  return out;
}
