import { join } from "node:path";
import type { JobProgress } from "@gantry/protocol";

/*
 * Stand-in for the agent's executor-plugin contract, which is being built in parallel and has not
 * landed: the subset the media adapters use, in its announced shape (`detect(settings)`, `run(job,
 * ctx)` with `inputPaths`, `outputDir`, `progress`, `log`, `signal`). At merge this file gives way
 * to the real types and the ≤40-line adapters are re-pointed; the plugins' core functions do not
 * change.
 */

/** The agent settings the media plugins read. */
export interface MediaSettings {
  dataDir: string;
  /** ONNX exports for clip/dino. @defaultValue `<dataDir>/models` */
  modelsDir?: string;
}

export interface MediaJob {
  capability: string;
  payload: unknown;
}

export interface MediaContext {
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  log(stream: "stdout" | "stderr", line: string): boolean | undefined;
  /** Input file name → local path. */
  inputPaths: Record<string, string>;
  /** Files left here become the job's output files. */
  outputDir: string;
  settings: MediaSettings;
}

export type Detection = { available: true; attributes?: string[] } | { available: false; reason: string };

export interface MediaExecutor {
  name: string;
  /** Base capability names served. */
  capabilities: string[];
  /** `process` for native code that holds much memory (tfjs, onnxruntime); see docs/plugins.md. */
  isolation: "thread" | "process";
  detect(settings: MediaSettings): Promise<Detection>;
  run(job: MediaJob, ctx: MediaContext): Promise<unknown>;
}

export function defineMediaExecutor(executor: MediaExecutor): MediaExecutor {
  return executor;
}

export function modelsDirOf(settings: MediaSettings): string {
  return settings.modelsDir ?? join(settings.dataDir, "models");
}
