import type { BenchmarkSpec } from "../config/benchmark-spec.ts";
import type { ExecutorSettings, LlmSettings } from "./executor.ts";

export interface ExecutorSettingsInput {
  allowShell: boolean;
  benchmarks: Record<string, BenchmarkSpec>;
  dataDir: string;
  maxLogBytes: number;
  maxOutputBytes: number;
  maxChildMemoryMb: number;
  /** The runner's grace after an abort; a child group gets half of it before SIGKILL, so it is gone in time. */
  abortGraceMs: number;
  inheritEnv: Record<string, string>;
  llm?: Partial<LlmSettings>;
}

/** The settings executors see, resolved once at start. */
export function executorSettings(i: ExecutorSettingsInput): ExecutorSettings {
  return {
    allowShell: i.allowShell,
    benchmarks: i.benchmarks,
    dataDir: i.dataDir,
    inheritEnv: i.inheritEnv,
    maxLogBytes: i.maxLogBytes,
    maxOutputBytes: i.maxOutputBytes,
    maxChildMemoryMb: i.maxChildMemoryMb,
    killGraceMs: Math.max(100, Math.floor(i.abortGraceMs / 2)),
    llm: { modelsDir: i.llm?.modelsDir ?? "", gpu: i.llm?.gpu ?? "auto", maxLoadedModels: i.llm?.maxLoadedModels ?? 1 },
  };
}
