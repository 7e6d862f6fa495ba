import type { PeerPayload, PeerTarget } from "./peer-messages.ts";

/** How the producer adds jobs to one system. Both reject when the system refuses the add. */
export interface ProducerDriver {
  addOne(payload: PeerPayload): Promise<void>;
  addMany(payloads: PeerPayload[]): Promise<void>;
  /** Gantry: the SDK's pipelined submit (GantryClient.submit over its WebSocket). */
  addPipelined?(payload: PeerPayload): Promise<void>;
  close(): Promise<void>;
}

export interface WorkerHooks {
  /** Called first thing in the job handler (latency is measured here). */
  onStart(payload: PeerPayload): void;
  /** Called once the system has recorded the completion (as far as its client tells). */
  onDone(): void;
}

export interface WorkerHandle {
  close(): Promise<void>;
}

/** The producer side for a target; imported lazily so a process loads only its own client library. */
export async function loadProducer(target: PeerTarget): Promise<ProducerDriver> {
  if (target.system === "gantry") return (await import("./gantry-driver.ts")).gantryProducer(target);
  if (target.system === "bullmq") return (await import("./bullmq-driver.ts")).bullmqProducer(target);
  return (await import("./graphile-driver.ts")).graphileProducer(target);
}

/** The worker side for BullMQ and graphile-worker (Gantry's workers are the protocol-agent fleet). */
export async function loadWorker(target: PeerTarget, concurrency: number, hooks: WorkerHooks): Promise<WorkerHandle> {
  if (target.system === "bullmq")
    return (await import("./bullmq-driver.ts")).startBullmqWorker(target, concurrency, hooks);
  if (target.system === "graphile")
    return (await import("./graphile-driver.ts")).startGraphileWorker(target, concurrency, hooks);
  throw new Error(`no worker driver for ${target.system}`);
}
