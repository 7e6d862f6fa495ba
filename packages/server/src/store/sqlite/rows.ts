import type { JobError, JobStatus } from "@gantry/protocol";
import type { AgentRecord, AttemptRecord, CommandRecord, JobRecord } from "../store.ts";

/** Row ↔ record mapping for the SQLite store: JSON columns parsed, snake_case to camelCase. */

export interface JobRow {
  id: string;
  capability: string;
  capability_full: string;
  payload: string;
  inputs: string;
  priority: number;
  owner: string;
  idempotency_key: string | null;
  request_hash: string | null;
  timeout_secs: number | null;
  max_wait_secs: number | null;
  runtime_secs: number | null;
  max_attempts: number;
  backoff_ms: number;
  status: JobStatus;
  progress: string | null;
  output: string | null;
  output_files: string;
  error: string | null;
  epoch: number;
  attempts_used: number;
  agent_id: string | null;
  lease_expires_at: number | null;
  cancel_requested_at: number | null;
  run_after: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  ended_at: number | null;
  log_seq: number;
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

export function jobFromRow(r: JobRow): JobRecord {
  return {
    id: r.id,
    capability: r.capability,
    capabilityFull: r.capability_full,
    payload: JSON.parse(r.payload),
    inputs: JSON.parse(r.inputs),
    priority: r.priority,
    owner: r.owner,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    timeoutSecs: r.timeout_secs,
    maxWaitSecs: r.max_wait_secs,
    runtimeSecs: r.runtime_secs,
    maxAttempts: r.max_attempts,
    backoffMs: r.backoff_ms,
    status: r.status,
    progress: parse(r.progress) as JobRecord["progress"],
    output: r.output === null ? undefined : JSON.parse(r.output),
    outputFiles: JSON.parse(r.output_files),
    error: parse(r.error) as JobError | null,
    epoch: r.epoch,
    attemptsUsed: r.attempts_used,
    agentId: r.agent_id,
    leaseExpiresAt: r.lease_expires_at,
    cancelRequestedAt: r.cancel_requested_at,
    runAfter: r.run_after,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
}

export interface AttemptRow {
  job_id: string;
  epoch: number;
  n: number;
  agent_id: string;
  started_at: number;
  ended_at: number | null;
  error: string | null;
}

export function attemptFromRow(r: AttemptRow): AttemptRecord {
  return {
    jobId: r.job_id,
    epoch: r.epoch,
    n: r.n,
    agentId: r.agent_id,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    error: parse(r.error) as JobError | null,
  };
}

export interface AgentRow {
  id: string;
  name: string | null;
  display_name: string | null;
  key_hash: string;
  enrolment_key_id: string | null;
  capabilities: string;
  tier: number;
  capacity: number;
  system_info: string;
  status: string | null;
  metrics: string | null;
  health: string | null;
  registered_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  session_epoch?: number;
  session_replica?: string | null;
  session_transport?: string | null;
  /** Joined from replicas (agent reads). */
  session_replica_seen_at?: number | null;
}

export function agentFromRow(r: AgentRow): AgentRecord {
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    keyHash: r.key_hash,
    enrolmentKeyId: r.enrolment_key_id,
    capabilities: JSON.parse(r.capabilities),
    tier: r.tier,
    capacity: r.capacity,
    systemInfo: JSON.parse(r.system_info),
    status: r.status as AgentRecord["status"],
    metrics: parse(r.metrics) as AgentRecord["metrics"],
    health: parse(r.health) as AgentRecord["health"],
    registeredAt: r.registered_at,
    lastSeenAt: r.last_seen_at,
    revokedAt: r.revoked_at,
    session:
      r.session_replica && r.session_transport
        ? {
            epoch: r.session_epoch ?? 0,
            replicaId: r.session_replica,
            transport: r.session_transport as "ws" | "poll",
            replicaSeenAt: r.session_replica_seen_at ?? null,
          }
        : null,
  };
}

export interface CommandRow {
  id: string;
  agent_id: string;
  type: CommandRecord["type"];
  params: string | null;
  jws: string;
  status: CommandRecord["status"];
  output: string | null;
  error: string | null;
  issued_at: number;
  expires_at: number;
  completed_at: number | null;
}

export function commandFromRow(r: CommandRow): CommandRecord {
  return {
    id: r.id,
    agentId: r.agent_id,
    type: r.type,
    params: parse(r.params),
    jws: r.jws,
    status: r.status,
    output: parse(r.output),
    error: r.error,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    completedAt: r.completed_at,
  };
}
