/** The systems the peers section can drive. `graphile-batched` = graphile-worker with its batching knobs on. */
export const PEER_SYSTEMS = ["gantry", "bullmq", "graphile", "graphile-batched"] as const;
export type PeerSystem = (typeof PEER_SYSTEMS)[number];

/** Where one system's queue lives for one environment (a fresh server, queue prefix or schema). */
export type PeerTarget =
  | { system: "gantry"; url: string; clientKey: string; agentKey: string; capability: string }
  | { system: "bullmq"; host: string; port: number; prefix: string; queue: string }
  | { system: "graphile"; connectionString: string; schema: string; batched: boolean };

/** Argument of worker-main.ts (BullMQ and graphile-worker; Gantry uses lib/fleet-main.ts). */
export interface PeerWorkerConfig {
  target: PeerTarget;
  concurrency: number;
}

/**
 * The job payload: ~100 bytes of JSON. `t` = producer wall time at send (ms); `w` marks jobs whose
 * latency is not sampled (warm-up and throughput jobs).
 */
export interface PeerPayload {
  t: number;
  w?: true;
  pad: string;
}

/**
 * single: one add per request (Gantry: one POST per job); bulk: `batchSize` per request;
 * pipelined: Gantry only, the SDK's default submit (over the client WebSocket, many per frame).
 */
export type ThroughputMode = "single" | "bulk" | "pipelined";

/** Bench parent → producer-main.ts (IPC). */
export type ToProducer =
  | { type: "throughput"; mode: ThroughputMode; n: number; batchSize: number; inFlight: number }
  | { type: "open-loop"; rate: number; warmupMs: number; measureMs: number; pipelined?: boolean };

/** producer-main.ts → bench parent. */
export type FromProducer =
  | { type: "ready" }
  | {
      type: "submitted";
      /** Wall time (ms) of the first add. */
      startedAt: number;
      submitMs: number;
      errors: number;
      firstError: string | null;
    }
  | {
      type: "open-loop:done";
      sent: number;
      sentMeasured: number;
      /** Adds acknowledged by the system, in total and inside the measured window. */
      accepted: number;
      acceptedInWindow: number;
      windowSecs: number;
      errors: number;
      firstError: string | null;
    };
