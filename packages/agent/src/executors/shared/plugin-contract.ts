import type { JobProgress } from "@gantry/protocol";

/*
 * Stand-in for the agent's executor-plugin contract, which is being built in parallel: input file
 * paths, an output directory, progress, logs and an AbortSignal. The nine media adapters are written
 * against this shape only, so reconciling them with the real contract touches this file and the
 * ≤40-line adapters, never the plugins' core functions.
 */

export interface PluginJob {
  capability: string;
  payload: unknown;
}

export interface PluginContext {
  /** Local paths of the job's input files, in the order they were submitted. */
  inputs: string[];
  /** Files written here become the job's output files. */
  outputDir: string;
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  log(line: string): void;
}

export interface PluginEnvironment {
  /** Where model files live (ONNX exports for clip/dino). */
  modelsDir: string;
}

export type Detection = { available: true; attributes?: string[] } | { available: false; reason: string };

export interface MediaPlugin {
  /** Capability names served, e.g. `["image_conversion"]`. */
  capabilities: string[];
  detect(env: PluginEnvironment): Promise<Detection>;
  run(job: PluginJob, ctx: PluginContext, env: PluginEnvironment): Promise<unknown>;
}

export function definePlugin(plugin: MediaPlugin): MediaPlugin {
  return plugin;
}
