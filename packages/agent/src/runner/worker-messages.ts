import type { FileRef, JobError, JobProgress } from "@gantry/protocol";
import type { ExecutorSettings } from "./executor.ts";

/** Why the runner aborted a job; also the AbortSignal reason the executor sees. */
export type AbortReason = "cancel" | "timeout" | "stale" | "dropped" | "shutdown";

/** Messages from the control thread to an executor worker thread (internal, not wire). */
export type ToWorker =
  | { t: "init"; modules: string[]; settings: ExecutorSettings }
  | {
      t: "run";
      id: string;
      name: string;
      capability: string;
      payload: unknown;
      inputs: FileRef[];
      attempt: number;
      /** Prepared by the runner (job-workspace.ts): input name → path, and the job's directories. */
      inputPaths: Record<string, string>;
      outputDir: string;
      workDir: string;
    }
  | { t: "abort"; id: string; reason: AbortReason }
  | { t: "ping"; n: number }
  | { t: "health"; n: number }
  | { t: "unload"; n: number };

/** What an executor module advertises after `detect()`: one entry per base capability it serves. */
export interface DetectedExecutor {
  /** The base capability. */
  name: string;
  /** The plugin serving it. */
  executor: string;
  isolation?: "thread" | "process";
  /** A built-in light executor: the control thread runs its jobs itself (see Executor.light). */
  light?: boolean;
  attributes: string[];
  detected: boolean;
  module: string;
  /** Why it is not available (detection said no, or loading failed). */
  problem?: string;
}

/** Messages from an executor worker thread back to the control thread. */
export type FromWorker =
  | { t: "ready"; executors: DetectedExecutor[] }
  | { t: "progress"; id: string; p: JobProgress }
  | { t: "tokens"; id: string; text: string }
  | { t: "log"; id: string; s: "stdout" | "stderr"; l: string }
  | { t: "done"; id: string; ok: true; output: unknown; made?: boolean }
  | { t: "done"; id: string; ok: false; error: JobError; made?: boolean }
  | { t: "pong"; n: number }
  | { t: "health"; n: number; problems: string[]; models: string[] }
  /** An executor's `watch` fired: what the thread detected again. */
  | { t: "changed"; executors: DetectedExecutor[] }
  | { t: "unloaded"; n: number };
