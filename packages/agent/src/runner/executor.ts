import type { ErrorCategory, FileRef, JobProgress } from "@gantry/protocol";

/** What an executor's `run` receives for one attempt of one job. */
export interface ExecutorContext {
  jobId: string;
  /** The capability string the job was submitted with (base name + attributes). */
  capability: string;
  payload: unknown;
  inputs: FileRef[];
  /** 1 for the first attempt, rising with each retry. */
  attempt: number;
  /** Aborted on cancel, runtime limit, stale lease or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  log(stream: "stdout" | "stderr", line: string): void;
}

/**
 * An executor plugin. A module exports one as its default export; it is loaded inside a worker
 * thread (never on the control loop), so it must be importable by URL.
 */
export interface Executor {
  /** Base capability name this executor serves, e.g. `debug.echo` or `llm.mistral-7b`. */
  name: string;
  /** Extra attributes to advertise, e.g. `["gpu", "cuda12"]` → `name[gpu;cuda12]`. */
  attributes?: string[];
  /** Can it run on this machine (model file present, tool on PATH, GPU)? Only detected ones are advertised. */
  detect(): boolean | Promise<boolean>;
  /** Runs one attempt; resolves with the job's output (JSON). Throw an ExecutorError to pick the category. */
  run(ctx: ExecutorContext): Promise<unknown>;
  /**
   * Health self-check of what the executor holds (e.g. "is the loaded model still answering?"):
   * resolve with a problem to report, or null when healthy. Called with each heartbeat, in the
   * executor's thread, only while that thread is alive.
   */
  health?(): string | null | Promise<string | null>;
  /** Releases what the executor holds (a loaded model, GPU memory) when the agent stops. */
  unload?(): void | Promise<void>;
}

/** An error with a category from the GPU-agent seed: transient and inference errors are retried by the server. */
export class ExecutorError extends Error {
  readonly category: ErrorCategory;
  readonly code: string | undefined;
  constructor(category: ErrorCategory, message: string, code?: string) {
    super(message);
    this.name = "ExecutorError";
    this.category = category;
    this.code = code;
  }
}

/** Identity helper so plugin authors get type checking without importing the interface. */
export function defineExecutor(executor: Executor): Executor {
  return executor;
}
