import type { ErrorCategory, FileRef, JobProgress } from "@gantry/protocol";
import type { BenchmarkSpec } from "../config/benchmark-spec.ts";

/** The job an executor's `run` gets: one attempt of it. */
export interface ExecutorJob {
  id: string;
  /** The capability string the job was submitted with (base name + attributes). */
  capability: string;
  payload: unknown;
  inputs: FileRef[];
  /** 1 for the first attempt, rising with each retry. */
  attempt: number;
}

/** What an executor's `run` can use besides the job. */
export interface ExecutorContext {
  /** Aborted on cancel, runtime limit, stale lease or shutdown; `signal.reason` says which. */
  signal: AbortSignal;
  progress(progress: JobProgress): void;
  /**
   * Generated text (LLM tokens), streamed to watchers in order and without loss as `tokens` job
   * events. Call it once per event-loop turn with that turn's text, not once per token. Absent in
   * `process`-isolated executors.
   */
  tokens?(text: string): void;
  /**
   * One log line. Lines are batched and bounded: once the job's log budget is spent the rest are
   * dropped (with one marker line) and this returns false, so a flood can stop producing lines.
   */
  log(stream: "stdout" | "stderr", line: string): boolean;
  /** After `log` returned false: output skipped without splitting it into lines, for the summary line. */
  logDropped(bytes: number): void;
  /** Input file name → local path (fetched and checked against its hash before `run`). */
  inputPaths: Record<string, string>;
  /** Files left here when `run` resolves become the job's output files. Removed after the job. */
  outputDir: string;
  /** A scratch directory for this attempt only. Removed after the job. */
  workDir: string;
  /** The agent's settings that executors may consult. */
  settings: ExecutorSettings;
}

/** Agent settings handed to `detect()` and `run()` (serialisable: they cross into threads and processes). */
export interface ExecutorSettings {
  /** `--allow-shell`: arbitrary commands may run. */
  allowShell: boolean;
  /** Benchmarks from the agent's config, by name. */
  benchmarks: Record<string, BenchmarkSpec>;
  /** The agent's data directory. */
  dataDir: string;
  /** Environment variables commands inherit from the agent (an allow-list, never the agent's secrets). */
  inheritEnv: Record<string, string>;
  /** Log bytes per job streamed to the server; the rest is dropped with a marker. */
  maxLogBytes: number;
  /** Largest JSON output (bytes) an executor may return. */
  maxOutputBytes: number;
  /** A `process` executor's child whose resident memory passes this (MB) is killed; 0: no limit (Linux only). */
  maxChildMemoryMb: number;
  /** After an abort, how long a child process group gets between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** For the `llm` executor (docs/llm.md); absent: its defaults. */
  llm?: LlmSettings;
}

/** `--models-dir`, `--gpu`, `--max-loaded-models`. */
export interface LlmSettings {
  /** Directory of `*.gguf` models; "" means `<dataDir>/models`. */
  modelsDir: string;
  /** `auto` offloads to CUDA/Metal/Vulkan when present; `off` forces the CPU. */
  gpu: "auto" | "off";
  /** Models kept in memory at once. */
  maxLoadedModels: number;
}

/**
 * What `detect()` found: available or not, and why not. `attributes` are added to every capability;
 * `capabilities` (full strings, `llm.llama3-8b[gpu;ctx:8192]`) replaces the declared list when what
 * can run is only known by looking (the models in a folder).
 */
export type Detection =
  | { available: true; attributes?: string[]; capabilities?: string[] }
  | { available: false; reason: string };

/**
 * An executor plugin: a module whose default export is one of these, in its own folder under
 * `executors/<name>/` (built in) or anywhere (`--executor`). The module is imported in a worker thread
 * and must be light: heavy or native libraries are imported inside `run()`, so an agent without them
 * still starts (and `detect()` says why the executor is unavailable).
 */
export interface Executor {
  /** The plugin's name, e.g. `shell.bash` or `llama-cpp`. */
  name: string;
  /** Base capability names it serves. @defaultValue [name] */
  capabilities?: string[];
  /** Attributes always advertised, e.g. `["gpu"]`; `detect()` may add more. */
  attributes?: string[];
  /**
   * Where `run` happens. `thread` (default): a worker thread shared with other jobs, for light
   * JavaScript. `process`: a child process in its own process group, for native code and commands;
   * a crash, hang or leak there is killed with the group and the agent lives on.
   */
  isolation?: "thread" | "process";
  /**
   * Answers at once and never blocks (`debug.echo`): its jobs run on the agent's control thread, with
   * no round trip to an executor thread. Honoured for the built-in executors only.
   */
  light?: boolean;
  /** Can it run on this machine (tool on PATH, model file, GPU, a setting)? Only available ones are advertised. */
  detect(settings: ExecutorSettings): boolean | Detection | Promise<boolean | Detection>;
  /** Runs one attempt; resolves with the job's output (JSON). Throw an ExecutorError to pick the category. */
  run(job: ExecutorJob, ctx: ExecutorContext): Promise<unknown>;
  /**
   * Health self-check of what the executor holds (e.g. "is the loaded model still answering?"):
   * resolve with a problem to report, or null when healthy. Called with each heartbeat, in the
   * executor's thread, only while that thread is alive.
   */
  health?(): string | null | Promise<string | null>;
  /**
   * Models held in memory now, as base capability names (`llm.tiny-a`). Asked with each health check;
   * the heartbeat reports them, and the server prefers this agent for jobs of those models.
   */
  loaded?(): string[];
  /**
   * Hears of changes to what `detect()` would find while the agent runs (a model quarantined after a
   * failed load, files added to the models directory): the agent then detects again and tells the server.
   */
  watch?(onChange: () => void): void;
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
