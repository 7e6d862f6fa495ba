import type { Logger } from "pino";
import type { TlsOptions } from "../connection/tls-options.ts";
import { MAX_OUTPUT_BYTES } from "../runner/wire-json.ts";
import type { BenchmarkSpec } from "./benchmark-spec.ts";

/** Options for `startAgent`. Anything left out comes from the config file, then from AGENT_DEFAULTS. */
export interface AgentOptions {
  /** Server base URL, e.g. `https://gantry.example.com`. Required on the first run; saved in the config. */
  server?: string;
  /** Enrolment key (`gnt_a_…`). Required on the first run; saved in the config as `apiKey`. */
  key?: string;
  /** Performance tier 0–255; higher tiers get work first. @defaultValue 5 */
  tier?: number;
  /** Capabilities to advertise in addition to what the executors detect. @defaultValue [] */
  capabilities?: string[];
  /** Jobs run at once. @defaultValue 1 */
  capacity?: number;
  /** Friendly name shown in `GET /v1/agents`. @defaultValue the hostname */
  name?: string;
  /** Config + identity file. @defaultValue `./.offload-client.json`, or the platform file written by `gantry agent init` */
  configPath?: string;
  /** Outbox, PID and status-port files. @defaultValue beside the config: `<config name>.data/` */
  dataDir?: string;
  /** `ws` (pushed jobs) or `poll` (HTTP long-poll, where sockets are blocked). @defaultValue "ws" */
  transport?: "ws" | "poll";
  /** On stop, how long running jobs may take to finish before they are aborted. @defaultValue 60 */
  drainTimeoutSecs?: number;
  /** pino level. @defaultValue "info" */
  logLevel?: string;
  /** Log to this file (rotated at 10 MB, 5 kept) instead of stdout. */
  logFile?: string;
  /** Use this logger instead of creating one (tests, embedding). */
  logger?: Logger;
  /** Where the human-readable startup lines go ("Registration successful!"). @defaultValue console.log */
  print?: (line: string) => void;
  /** First reconnect delay. @defaultValue 1000 */
  reconnectBaseMs?: number;
  /** Longest reconnect delay. @defaultValue 30000 */
  reconnectCapMs?: number;
  /** Tries for registration/auth HTTP calls on transient errors. @defaultValue 5 */
  httpTries?: number;
  /**
   * Extra executor modules with a default `Executor` export: file URLs, package names, or file paths
   * (relative to the config file's folder). Else the config file's `executors`. @defaultValue []
   */
  executors?: string[];
  /**
   * Let executors run arbitrary commands (`shell.bash`, `benchmark` with a job's own command). Else
   * the config file's `allowShell`. @defaultValue false
   */
  allowShell?: boolean;
  /** Benchmarks the `benchmark` executor runs, by name. Else the config file's `benchmarks`. @defaultValue {} */
  benchmarks?: Record<string, BenchmarkSpec>;
  /** Log bytes per job streamed to the server; past it output is dropped with a marker. @defaultValue 4 MiB */
  maxLogBytes?: number;
  /** Largest JSON output (bytes) an executor may return; more fails the job `fatal`. @defaultValue 8 MiB less 4 KiB */
  maxOutputBytes?: number;
  /**
   * Resident memory (MB) a `process` executor's child may reach before it is killed with its group
   * and the job fails (`transient`, code `executor_memory`); 0 for no limit. Linux. @defaultValue 0
   */
  maxExecutorMemoryMb?: number;
  /** The `llm` executor's GGUF models, one capability each (docs/llm.md). @defaultValue `<dataDir>/models` */
  modelsDir?: string;
  /** `auto`: llm offloads to CUDA/Metal/Vulkan when present; `off` forces the CPU. @defaultValue "auto" */
  gpu?: "auto" | "off";
  /** LLM models kept in memory at once (the least recently used is swapped out). @defaultValue 1 */
  maxLoadedModels?: number;
  /** Load the built-in executors (`debug.*`, `shell.bash`, `benchmark`, `llm`). @defaultValue true */
  builtinExecutors?: boolean;
  /**
   * Jobs taken beyond `capacity`, waiting here with their inputs fetched for the next free executor;
   * a job's upload and completion then overlap the next job (docs/agent.md "Prefetch"). @defaultValue 0
   */
  prefetch?: number;
  /** Executor worker threads. @defaultValue min(capacity, available CPUs) */
  workerThreads?: number;
  /** Executor threads start on demand and end after this long without work. @defaultValue 60 */
  workerIdleSecs?: number;
  /** How long an aborted executor may take to stop before its job is given up on. @defaultValue 2000 */
  abortGraceMs?: number;
  /** Outbox fsync policy; see OutboxOptions.fsyncIntervalMs. @defaultValue 1000 */
  outboxFsyncIntervalMs?: number;
  /** Long-poll wait in seconds (`--transport poll`). @defaultValue 30 */
  pollWaitSecs?: number;
  /** TLS/mTLS for the HTTP and WebSocket clients. @defaultValue {} */
  tls?: TlsOptions;
  /** Serve the loopback status endpoint and write the PID/port files. @defaultValue true */
  statusServer?: boolean;
  /** Collect heartbeat metrics (CPU, memory, disk, network, GPUs). @defaultValue true */
  metrics?: boolean;
}

export const AGENT_DEFAULTS = {
  tier: 5,
  capabilities: [],
  capacity: 1,
  transport: "ws",
  drainTimeoutSecs: 60,
  logLevel: "info",
  reconnectBaseMs: 1000,
  reconnectCapMs: 30_000,
  httpTries: 5,
  executors: [],
  builtinExecutors: true,
  allowShell: false,
  maxLogBytes: 4 * 1024 * 1024,
  maxOutputBytes: MAX_OUTPUT_BYTES,
  maxExecutorMemoryMb: 0,
  abortGraceMs: 2000,
  workerIdleSecs: 60,
  outboxFsyncIntervalMs: 1000,
  pollWaitSecs: 30,
  tls: {},
  statusServer: true,
  metrics: true,
} as const satisfies Partial<AgentOptions>;
