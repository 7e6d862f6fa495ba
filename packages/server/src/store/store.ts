import type {
  AgentHealth,
  AgentMetrics,
  AgentStatus,
  CommandStatus,
  CommandType,
  FileRef,
  HeldJob,
  JobError,
  JobProgress,
  JobStatus,
} from "@gantry/protocol";
import type { CredentialStore } from "./credential-store.ts";

export type { ApiKeyRecord, AuditEntry, Page, RefreshOutcome, UserPatch, UserRecord } from "./credential-store.ts";

/** A job row as the server sees it; times in epoch milliseconds. */
export interface JobRecord {
  id: string;
  capability: string;
  capabilityFull: string;
  payload: unknown;
  inputs: FileRef[];
  priority: number;
  owner: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  timeoutSecs: number | null;
  maxWaitSecs: number | null;
  runtimeSecs: number | null;
  maxAttempts: number;
  backoffMs: number;
  status: JobStatus;
  progress: JobProgress | null;
  output: unknown;
  outputFiles: FileRef[];
  error: JobError | null;
  epoch: number;
  attemptsUsed: number;
  agentId: string | null;
  leaseExpiresAt: number | null;
  cancelRequestedAt: number | null;
  runAfter: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface AttemptRecord {
  jobId: string;
  epoch: number;
  n: number;
  agentId: string;
  startedAt: number;
  endedAt: number | null;
  error: JobError | null;
}

export type NewJob = Omit<
  JobRecord,
  | "status"
  | "progress"
  | "output"
  | "outputFiles"
  | "error"
  | "epoch"
  | "attemptsUsed"
  | "agentId"
  | "leaseExpiresAt"
  | "cancelRequestedAt"
  | "runAfter"
  | "updatedAt"
  | "startedAt"
  | "endedAt"
>;

/** A blob as an owner holds it. */
export interface OwnedFile {
  hash: string;
  size: number;
  name: string;
}

/** addOwnedFiles: stored (usage is the owner's total after), or refused by the quota (nothing stored). */
export type OwnOutcome = { kind: "ok"; usage: number } | { kind: "quota"; usage: number };

/** The file verbs of a Store (blob metadata; the bytes live in a BlobStore). */
export interface FileStore {
  /** Bytes the owner holds (each blob once). */
  fileUsage(owner: string): Promise<number>;
  /**
   * Records that `owner` holds these blobs, all or none: refused when the bytes new to this owner
   * would take its usage past `quotaBytes`. Marks each blob referenced now.
   */
  addOwnedFiles(owner: string, files: OwnedFile[], quotaBytes: number, now: number): Promise<OwnOutcome>;
  /** Which of `hashes` the owner holds (with size); marks those referenced now, so GC leaves them. */
  claimOwnedFiles(owner: string, hashes: string[], now: number): Promise<Map<string, OwnedFile>>;
  /** The blob as `owner` holds it; with owner null (admins), as any owner holds it. */
  getOwnedFile(owner: string | null, hash: string): Promise<OwnedFile | undefined>;
  /**
   * Registers an output file of a job held by this agent at this epoch (replacing one of the same name)
   * and gives the job's owner the blob. Fenced like every agent message.
   */
  addJobOutput(jobId: string, agentId: string, epoch: number, file: OwnedFile, now: number): Promise<FenceOutcome>;
  /**
   * Claims for deletion, in one statement, blobs no job references and nothing referenced since
   * `before`; forgets their owners. Returns their hashes (the caller removes the bytes).
   */
  collectBlobs(before: number, limit: number): Promise<string[]>;
  /** Is the blob recorded (after a collect, a re-upload brings it back)? */
  blobRecorded(hash: string): Promise<boolean>;
}

/** Thrown by insertJobs (rolling the whole call back) when an idempotency key is reused for another request. */
export class IdempotencyConflict extends Error {
  readonly jobId: string;
  constructor(jobId: string) {
    super(`idempotency key already used by job ${jobId}`);
    this.jobId = jobId;
  }
}

/** Outcome of inserting a job: created, or an existing job with the same owner + idempotency key. */
export interface InsertOutcome {
  job: JobRecord;
  created: boolean;
}

/**
 * Outcome of a fenced write (an agent message about a job at an epoch):
 * - ok: applied; the returned job is the new state
 * - duplicate: the same message was applied before (a resend); nothing changed
 * - stale: the job is not held by this agent at this epoch; nothing changed (409)
 * - missing: no such job
 */
export type FenceOutcome =
  | { kind: "ok"; job: JobRecord }
  | { kind: "duplicate"; job: JobRecord }
  | { kind: "stale"; job: JobRecord }
  | { kind: "missing" };

/** What happens to a held job when its attempt ends without success. */
export type AttemptEnd =
  | { next: "queued"; runAfter: number; error: JobError; countsAsAttempt: boolean }
  | { next: "failed"; error: JobError }
  | { next: "cancelled"; error: JobError | null };

/**
 * The retry policy, applied by the store to the job row it has locked (or, in SQLite, read inside the
 * same write): the decision is made from the state the write changes, never from an earlier read.
 * Pure: no I/O, no side effects.
 */
export type DecideEnd = (job: JobRecord) => AttemptEnd;

/** An attempt a sweep ended: the job's new state and the agent that held it (a requeue clears agentId). */
export interface EndedAttempt {
  agentId: string;
  epoch: number;
  job: JobRecord;
}

/** A job a deadline sweep failed: its new state, and who held it at which epoch (null when queued). */
export interface DeadlineEnd {
  heldBy: { agentId: string; epoch: number } | null;
  job: JobRecord;
}

/** What a heartbeat's renewal found: see Store.renewLeases. */
export interface LeaseRenewal {
  drop: HeldJob[];
  unlisted: JobRecord[];
}

/** What one retention step deleted. */
export interface RetentionBatch {
  jobs: number;
  logs: number;
}

export interface JobFilter {
  owner: string | null;
  statuses: JobStatus[] | null;
  capability: string | null;
  /** Exclusive: list jobs with id < beforeId (newest first). */
  beforeId: string | null;
  limit: number;
}

/** One cell of the job counters: how many jobs of `owner` (summed over owners when listed for all) are in `status`. */
export interface JobCount {
  capability: string;
  status: JobStatus;
  n: number;
}

export interface LogLineInput {
  stream: "stdout" | "stderr" | "system";
  line: string;
}
export interface LogRecord extends LogLineInput {
  seq: number;
  ts: number;
}

export interface AgentRecord {
  id: string;
  name: string | null;
  /** What an OffloadMQ agent calls itself (`displayName` at registration). */
  displayName: string | null;
  keyHash: string;
  enrolmentKeyId: string | null;
  capabilities: string[];
  tier: number;
  capacity: number;
  systemInfo: Record<string, unknown>;
  status: AgentStatus | null;
  metrics: AgentMetrics | null;
  health: AgentHealth | null;
  registeredAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
  /** The agent's current session, wherever it is connected (filled by reads; null when none). */
  session?: AgentSession | null;
}

/** Which replica holds an agent's current link: see Store.openAgentSession. */
export interface AgentSession {
  /** Rises with every hello: a link with a lower epoch, on any replica, is stale. */
  epoch: number;
  replicaId: string;
  transport: "ws" | "poll";
  /** When that replica last swept (Store.replicaAlive): a dead replica's sessions are not online. */
  replicaSeenAt: number | null;
}

export interface CommandRecord {
  id: string;
  agentId: string;
  type: CommandType;
  params: unknown;
  jws: string;
  status: CommandStatus;
  output: unknown;
  error: string | null;
  issuedAt: number;
  expiresAt: number;
  completedAt: number | null;
}

/**
 * The store speaks queue verbs, never SQL. Every write resolves only once it is durable (group
 * commit for SQLite); reads resolve at once. Writes about one job issued one after another without
 * awaiting apply in that order. Implementations: SQLite (embedded), PostgreSQL (replicas).
 */
export interface Store extends FileStore, CredentialStore {
  /** Resolves when every write issued so far is durable (use before answering a read). */
  barrier(): Promise<void>;
  close(): Promise<void>;
  /**
   * Why writes are failing for lack of disk (isStorageFullError), or null: set by a failed write or
   * commit, cleared by the next one that succeeds (a probe: setMeta).
   */
  storageIssue(): string | null;

  // jobs
  insertJobs(jobs: NewJob[]): Promise<InsertOutcome[]>;
  getJob(id: string): Promise<JobRecord | undefined>;
  getAttempts(jobIds: string[]): Promise<Map<string, AttemptRecord[]>>;
  listJobs(filter: JobFilter): Promise<JobRecord[]>;
  /**
   * Job counts per (base capability, status), of one owner or (owner null) of all. Kept by the
   * store as counters on every insert, status change and delete, so this costs O(capabilities ×
   * statuses), never a scan of the jobs.
   */
  jobCounts(owner: string | null): Promise<JobCount[]>;
  /**
   * created_at of the oldest queued job (lowest id) of one owner or of all, among `capabilities`
   * when given (base names). Walks the status index from its oldest end.
   */
  oldestQueuedAt(owner: string | null, capabilities: string[] | null): Promise<number | null>;
  /** Folds counter deltas into the counters (PostgreSQL; a no-op where counters are updated in place). Safe on every replica. */
  compactJobCounts(): Promise<void>;
  /**
   * Claims queued, eligible jobs of one capability (priority desc, then age) and assigns the i-th to
   * slots[i]: epoch + 1, status assigned, lease set, attempt row written. Returns the claimed jobs.
   */
  claimJobs(capability: string, slots: string[], now: number, leaseExpiresAt: number): Promise<JobRecord[]>;
  markStarted(jobId: string, agentId: string, epoch: number, now: number): Promise<FenceOutcome>;
  setProgress(jobId: string, agentId: string, epoch: number, progress: JobProgress, now: number): Promise<FenceOutcome>;
  appendLogs(
    jobId: string,
    agentId: string,
    epoch: number,
    lines: LogLineInput[],
    now: number,
  ): Promise<{ outcome: FenceOutcome; records: LogRecord[] }>;
  completeAttempt(
    jobId: string,
    agentId: string,
    epoch: number,
    output: unknown,
    outputFiles: FileRef[],
    now: number,
  ): Promise<FenceOutcome>;
  /**
   * Ends a held attempt badly: requeue (with backoff), fail, or cancel, as `end` decides from the job
   * as it stands inside the write (attempts used, cancel flag), only if still held by this agent at
   * this epoch.
   */
  endAttempt(
    jobId: string,
    agentId: string,
    epoch: number,
    end: AttemptEnd | DecideEnd,
    now: number,
  ): Promise<FenceOutcome>;
  /**
   * A heartbeat: renews the leases of the listed jobs that the agent still holds at the listed epoch
   * and whose lease has not lapsed. Returns the listed jobs it did not renew (the agent must drop
   * them) and the agent's held jobs that were not listed and have not changed since `quietBefore`.
   */
  renewLeases(
    agentId: string,
    listed: HeldJob[],
    now: number,
    leaseExpiresAt: number,
    quietBefore: number,
  ): Promise<LeaseRenewal>;
  /**
   * The lease sweep: claims at most `limit` held jobs whose lease lapsed before `now` and ends each
   * attempt as `decide` says, in one transaction (rows locked SKIP LOCKED where the backend can), so
   * replicas sweeping at once end each attempt once and a heartbeat that renewed first wins.
   */
  expireLeases(now: number, limit: number, decide: DecideEnd): Promise<EndedAttempt[]>;
  heldJobs(agentId: string): Promise<JobRecord[]>;
  /** How many jobs each agent holds (assigned or running), for agents holding any: free slots of agents on other replicas. */
  heldCounts(): Promise<Map<string, number>>;
  /**
   * queued → cancelled at once; held → cancel flag set (the agent must acknowledge); decided by
   * conditional updates. Returns the job as it stands after (a finished job unchanged).
   */
  requestCancel(jobId: string, now: number): Promise<JobRecord | undefined>;
  /**
   * failed/cancelled → queued, with a fresh attempt budget, in one conditional update. Returns the
   * job as it stands after (unchanged if it was not failed or cancelled).
   */
  retryJob(jobId: string, now: number): Promise<JobRecord | undefined>;
  /**
   * Ends a job that is queued or held, with a final status, in one conditional update (the open
   * attempt ends with it). Returns the job as it stands after (unchanged if already finished).
   */
  finishJob(
    jobId: string,
    status: "failed" | "cancelled",
    error: JobError | null,
    now: number,
  ): Promise<JobRecord | undefined>;
  getLogs(jobId: string, after: number, limit: number): Promise<LogRecord[]>;
  /**
   * The deadline sweep: fails, in one statement, at most `limit` non-terminal jobs past their
   * timeoutSecs and never-picked-up queued jobs past maxWaitSecs (error code timeout / max_wait),
   * ending their open attempts. Each job is failed by exactly one caller.
   */
  failOverdueJobs(now: number, limit: number): Promise<DeadlineEnd[]>;
  /**
   * Records that server `replicaId` is alive at `now` (each sweep tick), and, when `restart` is set and
   * no other replica was seen since `now - aliveWithinMs`, extends every held lease to at least
   * `leaseExpiresAt` in the same statement (the whole service was down: give agents one lease period to
   * reconnect). One replica restarting among live ones extends nothing. Returns the leases extended.
   */
  replicaAlive(
    replicaId: string,
    now: number,
    aliveWithinMs: number,
    restart: { leaseExpiresAt: number } | null,
  ): Promise<number>;
  /** The replicas seen (replicaAlive) at or after `since`, by id: who publishes cluster-wide retained state. */
  liveReplicas(since: number): Promise<string[]>;
  /** Capabilities with queued jobs (to kick dispatch on start). */
  queuedCapabilities(): Promise<string[]>;
  /** How many jobs are queued per base capability (for `GET /v1/capabilities`). */
  queuedCounts(): Promise<Map<string, number>>;
  /**
   * Retention, one bounded step: deletes at most `limit` log rows of finished (completed, failed,
   * cancelled) jobs that ended before `cutoff`, then at most `limit` such jobs whose logs are gone,
   * with their attempts. Call again until both counts are below `limit`.
   */
  deleteFinishedBefore(cutoff: number, limit: number): Promise<RetentionBatch>;

  // agents
  insertAgent(agent: AgentRecord): Promise<void>;
  getAgent(id: string): Promise<AgentRecord | undefined>;
  listAgents(): Promise<AgentRecord[]>;
  updateAgentState(
    id: string,
    state: {
      status?: AgentStatus | null;
      metrics?: AgentMetrics | null;
      health?: AgentHealth | null;
      lastSeenAt: number;
    },
  ): Promise<void>;
  updateAgentProfile(id: string, profile: { capabilities: string[]; capacity: number; tier: number }): Promise<void>;
  revokeAgent(id: string, now: number): Promise<AgentRecord | undefined>;
  /**
   * An agent's hello on `replicaId`: raises its session epoch and records where its link is, in one
   * statement. Returns the new epoch (undefined: no such agent).
   */
  openAgentSession(agentId: string, replicaId: string, transport: "ws" | "poll"): Promise<number | undefined>;
  /** Its link closed: clears where it is, only if `epoch` is still its current session. */
  closeAgentSession(agentId: string, epoch: number): Promise<void>;

  // commands
  insertCommand(command: CommandRecord): Promise<void>;
  getCommand(id: string): Promise<CommandRecord | undefined>;
  listCommands(agentId: string, limit: number): Promise<CommandRecord[]>;
  /** Sets a command's outcome; only from a non-final status (pending/sent). Returns the new record. */
  settleCommand(
    id: string,
    agentId: string,
    status: CommandStatus,
    output: unknown,
    error: string | null,
    now: number,
  ): Promise<CommandRecord | undefined>;

  // credentials: see CredentialStore

  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}
