import type { Job } from "@gantry/protocol";
import type { AttemptRecord, JobRecord } from "./store/store.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A stored job as the wire shows it: ISO timestamps, attempts attached, output only once completed. */
export function jobView(r: JobRecord, attempts: AttemptRecord[] = []): Job {
  const job: Job = {
    id: r.id,
    capability: r.capabilityFull,
    payload: r.payload,
    inputs: r.inputs,
    priority: r.priority,
    owner: r.owner,
    idempotencyKey: r.idempotencyKey,
    timeoutSecs: r.timeoutSecs,
    maxWaitSecs: r.maxWaitSecs,
    runtimeSecs: r.runtimeSecs,
    maxAttempts: r.maxAttempts,
    backoffMs: r.backoffMs,
    status: r.status,
    progress: r.progress,
    outputFiles: r.outputFiles,
    error: r.error,
    epoch: r.epoch,
    attempts: attempts.map((a) => ({
      n: a.n,
      agentId: a.agentId,
      epoch: a.epoch,
      startedAt: iso(a.startedAt)!,
      endedAt: iso(a.endedAt),
      error: a.error,
    })),
    agentId: r.agentId,
    leaseExpiresAt: iso(r.leaseExpiresAt),
    cancelRequestedAt: iso(r.cancelRequestedAt),
    runAfter: iso(r.runAfter),
    createdAt: iso(r.createdAt)!,
    updatedAt: iso(r.updatedAt)!,
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
  };
  if (r.status === "completed") job.output = r.output ?? null;
  return job;
}
