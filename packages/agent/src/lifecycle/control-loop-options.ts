import type { AgentHealth, AgentMetrics, BackoffPolicy, JobError } from "@gantry/protocol";
import type { Logger } from "pino";
import type { AgentApi } from "../connection/agent-api.ts";
import type { HttpClient } from "../connection/http-client.ts";
import type { ServerList } from "../connection/server-list.ts";
import type { TlsConnectOptions } from "../connection/tls-options.ts";
import type { Outbox } from "../outbox/outbox.ts";
import type { WorkerPool } from "../runner/worker-pool.ts";

/** What `startAgent` resolves and hands the control loop (no defaults here: all resolved already). */
export interface ControlLoopOptions {
  /** The server URLs (one, or replicas of one cluster); the link uses the current one. */
  server: ServerList;
  transport: "ws" | "poll";
  capacity: number;
  /**
   * Jobs taken beyond `capacity` so that the next one is here (inputs fetched) when an executor comes
   * free, and a job's upload and completion are off its executor slot. The server sees
   * capacity + prefetch; executors still run `capacity` at a time. 0: none.
   */
  prefetch: number;
  /** Sent in every hello so the server knows what this agent offers now. */
  capabilities: string[];
  tier: number;
  pollWaitSecs: number;
  backoff: BackoffPolicy;
  heartbeatIntervalSecs: number;
  http: HttpClient;
  api: AgentApi;
  tls: TlsConnectOptions;
  agentId: string;
  key: string;
  token: string;
  /** The token's expiry as the server answered it (absolute Unix seconds; see token-keeper.ts). */
  tokenExpiresIn: number;
  /** Persists a new token (seed config fields jwtToken/tokenExpiresIn). */
  onToken(token: string, expiresIn: number): void;
  pool: WorkerPool;
  executors: ReadonlySet<string>;
  abortGraceMs: number;
  outbox: Outbox;
  /** Where the dead-letter list lives (beside the outbox). */
  dataDir: string;
  logger: Logger;
  /** The latest heartbeat metrics and health (sampled elsewhere, never awaited here). */
  sample(): { metrics?: AgentMetrics; health?: AgentHealth };
  /** The agent cannot go on (revoked identity); the caller stops with this exit code. */
  onFatal(code: number, message: string): void;
  /** Every failed attempt's error: code `gpu_lost` (an executor lost its GPU) drains the agent, exit 1. */
  onJobError?(error: JobError): void;
  /** Verifies and runs a signed server command; resolves with what to report. */
  onCommand?(jws: string): Promise<CommandReport>;
}

export interface CommandReport {
  commandId: string;
  status: "completed" | "failed" | "refused";
  output?: unknown;
  error?: string;
}
