import type { JobProgress } from "@gantry/protocol";
import type { ExecutorContext, ExecutorJob } from "../../../runner/executor.ts";
import { executorSettings } from "../../../runner/executor-settings.ts";

/** The agent's executor settings for a test or bench outside an agent. */
export const testSettings = (dataDir: string) =>
  executorSettings({
    allowShell: false,
    benchmarks: {},
    dataDir,
    maxLogBytes: 4 << 20,
    maxOutputBytes: 8 << 20,
    maxChildMemoryMb: 0,
    abortGraceMs: 2000,
    inheritEnv: {},
  });

let n = 0;
/** One job for `capability`, as the runner hands it over. */
export const testJob = (capability: string, payload: unknown): ExecutorJob => ({
  id: `job-${++n}`,
  capability,
  payload,
  inputs: [],
  attempt: 1,
});

/** A run context that records progress, token text (one entry per call) and log lines. */
export function testContext(dataDir: string, signal = new AbortController().signal) {
  const progress: JobProgress[] = [];
  const logs: string[] = [];
  const tokens: string[] = [];
  const ctx: ExecutorContext = {
    signal,
    progress: (p) => progress.push(p),
    tokens: (t) => tokens.push(t),
    log: (_s, line) => logs.push(line) > 0,
    logDropped: () => {},
    inputPaths: {},
    outputDir: dataDir,
    workDir: dataDir,
    settings: testSettings(dataDir),
  };
  return { ctx, progress, logs, tokens };
}
