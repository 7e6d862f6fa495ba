import { createHash } from "node:crypto";
import {
  CapabilityParseError,
  GantryError,
  JOB_DEFAULTS,
  parseCapability,
  type SubmitJobRequest,
} from "@gantry/protocol";
import stableStringify from "safe-stable-stringify";
import { monotonicFactory } from "ulid";
import type { NewJob } from "../store/store.ts";
import { pooledRandom } from "../util/pooled-random.ts";

const nextId = monotonicFactory(pooledRandom());

/** A submission as the row to insert: defaults applied, capability parsed, idempotency hash taken. */
export function newJob(owner: string, r: SubmitJobRequest, now: number): NewJob {
  let name: string;
  try {
    name = parseCapability(r.capability).name;
  } catch (err) {
    if (err instanceof CapabilityParseError) throw new GantryError("invalid_capability", err.message);
    throw err;
  }
  return {
    id: nextId(now),
    capability: name,
    capabilityFull: r.capability,
    payload: r.payload ?? {},
    inputs: r.inputs ?? [],
    priority: r.priority ?? JOB_DEFAULTS.priority,
    owner,
    idempotencyKey: r.idempotencyKey ?? null,
    // Stable serialisation (sorted keys): a replay with the keys in another order is the same request.
    requestHash: r.idempotencyKey ? createHash("sha256").update(stableStringify(r)).digest("hex") : null,
    timeoutSecs: r.timeoutSecs ?? null,
    maxWaitSecs: r.maxWaitSecs ?? null,
    runtimeSecs: r.runtimeSecs ?? null,
    maxAttempts: r.maxAttempts ?? JOB_DEFAULTS.maxAttempts,
    backoffMs: r.backoffMs ?? JOB_DEFAULTS.backoffMs,
    createdAt: now,
  };
}
