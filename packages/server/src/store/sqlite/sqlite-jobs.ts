import type { FileRef, JobError, JobProgress } from "@gantry/protocol";
import type Database from "better-sqlite3";
import { getOrCreate } from "../../util/get-or-create.ts";
import { listByStatuses } from "../list-by-statuses.ts";
import {
  type AttemptEnd,
  type AttemptRecord,
  type DeadlineEnd,
  type DecideEnd,
  type FenceOutcome,
  IdempotencyConflict,
  type InsertOutcome,
  type JobCount,
  type JobFilter,
  type JobRecord,
  type LogLineInput,
  type LogRecord,
  type NewJob,
} from "../store.ts";
import type { GroupCommit } from "./group-commit.ts";
import { type AttemptRow, attemptFromRow, type JobRow, jobFromRow } from "./rows.ts";

const HELD = "status IN ('assigned','running')";
/** The predicate of the list indexes (migration 008), spelled as there so SQLite can use them. */
const LISTED = "status IN ('queued','completed','failed','cancelled')";
const AGENT_CATEGORIES = new Set(["transient", "model", "inference", "fatal"]);

/**
 * The job verbs of the SQLite store. Statements are prepared once. Writes go through GroupCommit, so
 * they run synchronously in the open batch and resolve after its commit.
 */
export class SqliteJobs {
  readonly #db: Database.Database;
  readonly #gc: GroupCommit;
  readonly #s;
  readonly #listCache = new Map<string, Database.Statement>();

  constructor(db: Database.Database, gc: GroupCommit) {
    this.#db = db;
    this.#gc = gc;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      // Contract: one row; an idempotency key already used by this owner inserts nothing (ON CONFLICT)
      // and returns no row, and the caller then reads the holder inside the same write.
      insert: p(`INSERT INTO jobs (id, capability, capability_full, payload, inputs, priority, owner, idempotency_key,
        request_hash, timeout_secs, max_wait_secs, runtime_secs, max_attempts, backoff_ms, status, created_at, updated_at,
        deadline_at, pickup_deadline_at)
        VALUES (@id, @capability, @capabilityFull, @payload, @inputs, @priority, @owner, @idempotencyKey, @requestHash,
        @timeoutSecs, @maxWaitSecs, @runtimeSecs, @maxAttempts, @backoffMs, 'queued', @createdAt, @createdAt,
        @deadlineAt, @pickupDeadlineAt)
        ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`),
      byIdem: p("SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?"),
      get: p("SELECT * FROM jobs WHERE id = ?"),
      // Contract: the queue head of one capability, priority desc then age; eligible = run_after passed.
      // Reads the partial index jobs_queue; touches at most `limit` rows.
      eligible: p(`SELECT * FROM jobs INDEXED BY jobs_queue WHERE capability = ? AND status = 'queued'
        AND (run_after IS NULL OR run_after <= ?) ORDER BY priority DESC, id LIMIT ?`),
      // A new attempt starts with no outputs: files an earlier attempt uploaded are not this one's.
      assign: p(`UPDATE jobs SET status = 'assigned', epoch = epoch + 1, attempts_used = attempts_used + 1,
        agent_id = ?, lease_expires_at = ?, run_after = NULL, output_files = '[]', updated_at = ? WHERE id = ?`),
      attemptInsert: p("INSERT INTO job_attempts (job_id, epoch, n, agent_id, started_at) VALUES (?, ?, ?, ?, ?)"),
      attemptEnd: p(
        "UPDATE job_attempts SET ended_at = ?, error = ? WHERE job_id = ? AND epoch = ? AND ended_at IS NULL",
      ),
      attemptGet: p("SELECT * FROM job_attempts WHERE job_id = ? AND epoch = ?"),
      // Contract for the fenced updates below: one row, only if the job is held by this agent at this
      // epoch; they return the new row, or nothing (then #classify says why). One statement per message:
      // reading the row first and again after the update cost 12-14% of server CPU in bench/.
      started: p(`UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, ?), updated_at = ?
        WHERE id = ? AND agent_id = ? AND epoch = ? AND status = 'assigned' RETURNING *`),
      progress: p(`UPDATE jobs SET progress = ?, updated_at = ?
        WHERE id = ? AND agent_id = ? AND epoch = ? AND ${HELD} RETURNING *`),
      logSeq: p(`UPDATE jobs SET log_seq = log_seq + ?, updated_at = ?
        WHERE id = ? AND agent_id = ? AND epoch = ? AND ${HELD} RETURNING *`),
      logInsert: p("INSERT INTO job_logs (job_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?)"),
      logs: p("SELECT seq, ts, stream, line FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
      // error = NULL: an earlier attempt's error is history (attempts[]), not the completed job's.
      complete:
        p(`UPDATE jobs SET status = 'completed', output = ?, output_files = COALESCE(?, output_files), lease_expires_at = NULL, error = NULL,
        ended_at = ?, updated_at = ? WHERE id = ? AND agent_id = ? AND epoch = ? AND ${HELD} RETURNING *`),
      attemptsOf: p(
        "SELECT * FROM job_attempts WHERE job_id IN (SELECT value FROM json_each(?)) ORDER BY job_id, epoch",
      ),
      // Contract for requeue/finish: one row, only if still held by this agent at this epoch (fenced).
      // agent_id = NULL: a queued job is held by no one; attempts[] keeps who ran it.
      requeue: p(`UPDATE jobs SET status = 'queued', error = ?, agent_id = NULL, lease_expires_at = NULL, run_after = ?,
        attempts_used = attempts_used - ?, updated_at = ? WHERE id = ? AND agent_id = ? AND epoch = ? AND ${HELD}
        RETURNING *`),
      finish: p(`UPDATE jobs SET status = ?, error = ?, lease_expires_at = NULL, cancel_requested_at = NULL,
        ended_at = ?, updated_at = ? WHERE id = ? AND agent_id = ? AND epoch = ? AND ${HELD} RETURNING *`),
      // Contract: queued → cancelled, one row, only while queued.
      cancelQueued: p(`UPDATE jobs SET status = 'cancelled', ended_at = ?, updated_at = ?
        WHERE id = ? AND status = 'queued' RETURNING *`),
      // Contract: a held job's cancel flag, one row, only while held and not yet flagged.
      cancelFlag: p(`UPDATE jobs SET cancel_requested_at = ?, updated_at = ?
        WHERE id = ? AND ${HELD} AND cancel_requested_at IS NULL RETURNING *`),
      // Contract: ends a queued or held job (deadline), one row, only while not finished.
      finishAny: p(`UPDATE jobs SET status = ?, error = ?, lease_expires_at = NULL, cancel_requested_at = NULL,
        ended_at = ?, updated_at = ? WHERE id = ? AND status IN ('queued','assigned','running') RETURNING *`),
      // Contract: only from failed/cancelled, one row.
      retry:
        p(`UPDATE jobs SET status = 'queued', error = NULL, agent_id = NULL, output = NULL, output_files = '[]', progress = NULL,
        attempts_used = 0, run_after = NULL, cancel_requested_at = NULL, ended_at = NULL, updated_at = ?,
        deadline_at = CASE WHEN timeout_secs IS NULL THEN NULL ELSE ? + timeout_secs * 1000 END,
        pickup_deadline_at = NULL WHERE id = ? AND status IN ('failed','cancelled') RETURNING *`),
      // Contract (deadline sweep): picks and fails the overdue jobs in one statement (jobs_deadline and
      // jobs_pickup_deadline), at most @limit rows; a finished job is never picked, so each job is failed
      // once. agent_id stays (who held it, for the cancel push); a queued job has none.
      failOverdue: p(`UPDATE jobs SET status = 'failed', lease_expires_at = NULL, cancel_requested_at = NULL,
        ended_at = @now, updated_at = @now,
        error = CASE WHEN deadline_at <= @now
          THEN json_object('category', 'timeout', 'code', 'timeout',
            'message', 'not finished within timeoutSecs=' || printf('%g', timeout_secs))
          ELSE json_object('category', 'timeout', 'code', 'max_wait',
            'message', 'no agent picked it up within maxWaitSecs=' || printf('%g', max_wait_secs)) END
        WHERE id IN (
          SELECT id FROM jobs INDEXED BY jobs_deadline WHERE deadline_at <= @now AND status IN ('queued','assigned','running')
          UNION SELECT id FROM jobs INDEXED BY jobs_pickup_deadline WHERE pickup_deadline_at <= @now AND status = 'queued' AND epoch = 0
          LIMIT @limit)
        RETURNING *`),
      // Counters kept by the triggers of migration 008; zero cells are left out.
      countsAll: p(`SELECT capability, status, SUM(n) AS n FROM job_counts GROUP BY capability, status
        HAVING SUM(n) <> 0`),
      countsOf: p("SELECT capability, status, n FROM job_counts WHERE owner = ? AND n <> 0"),
      // The oldest queued job: the queued end of jobs_status_list / jobs_owner_status_list, walked in
      // id order until one is in the capability list (null: any).
      oldestAll: p(`SELECT created_at FROM jobs INDEXED BY jobs_status_list WHERE ${LISTED} AND status = 'queued'
        AND (? IS NULL OR capability IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT 1`),
      oldestOf: p(`SELECT created_at FROM jobs INDEXED BY jobs_owner_status_list WHERE ${LISTED} AND owner = ?
        AND status = 'queued'
        AND (? IS NULL OR capability IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT 1`),
      queuedCaps: p("SELECT DISTINCT capability FROM jobs INDEXED BY jobs_queue WHERE status = 'queued'"),
      queuedCounts: p(
        "SELECT capability, COUNT(*) AS n FROM jobs INDEXED BY jobs_queue WHERE status = 'queued' GROUP BY capability",
      ),
    };
  }

  insertJobs(jobs: NewJob[]): Promise<InsertOutcome[]> {
    return this.#gc.write(() =>
      jobs.map((j) => {
        const inserted = this.#s.insert.get({
          ...j,
          payload: JSON.stringify(j.payload ?? null),
          inputs: JSON.stringify(j.inputs),
          deadlineAt: j.timeoutSecs === null ? null : j.createdAt + j.timeoutSecs * 1000,
          pickupDeadlineAt: j.maxWaitSecs === null ? null : j.createdAt + j.maxWaitSecs * 1000,
        });
        if (inserted) return { job: queuedRecord(j), created: true };
        const existing = this.#s.byIdem.get(j.owner, j.idempotencyKey) as JobRow;
        if (existing.request_hash !== j.requestHash) throw new IdempotencyConflict(existing.id);
        return { job: jobFromRow(existing), created: false };
      }),
    );
  }

  getJob(id: string): Promise<JobRecord | undefined> {
    return Promise.resolve(this.#getSync(id));
  }

  getAttempts(jobIds: string[]): Promise<Map<string, AttemptRecord[]>> {
    const out = new Map<string, AttemptRecord[]>();
    if (jobIds.length === 0) return Promise.resolve(out);
    const rows = this.#s.attemptsOf.all(JSON.stringify(jobIds)) as AttemptRow[];
    for (const r of rows) {
      const list = out.get(r.job_id) ?? [];
      list.push(attemptFromRow(r));
      out.set(r.job_id, list);
    }
    return Promise.resolve(out);
  }

  listJobs(f: JobFilter): Promise<JobRecord[]> {
    return listByStatuses(f, (one) => Promise.resolve(this.#listOne(one)));
  }

  /**
   * At most one status. Queued and finished jobs: the list index (008) of the filter, walked in id
   * order, stopping after `limit` rows. Held jobs: all held jobs (jobs_lease, bounded by the fleet's
   * slots), sorted. No status: the primary key or jobs_owner_id, in id order.
   */
  #listOne(f: JobFilter): JobRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    let from = "jobs";
    let held = false;
    if (f.statuses !== null) {
      const status = f.statuses[0]!;
      held = status === "assigned" || status === "running";
      from = held
        ? "jobs INDEXED BY jobs_lease"
        : `jobs INDEXED BY ${f.owner === null ? "jobs_status_list" : "jobs_owner_status_list"}`;
      add(held ? HELD : LISTED);
      add("status = ?", status);
    }
    if (f.owner !== null) add("owner = ?", f.owner);
    if (f.capability !== null) add("capability = ?", f.capability);
    if (f.beforeId !== null) add("id < ?", f.beforeId);
    const filter = `FROM ${from} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    // Held: sort the held jobs' ids, then read whole rows for the page only.
    const sql = held ? `SELECT * FROM jobs WHERE id IN (SELECT id ${filter}) ORDER BY id DESC` : `SELECT * ${filter}`;
    const stmt = getOrCreate(this.#listCache, sql, () => this.#db.prepare(sql));
    return (stmt.all([...args, f.limit]) as JobRow[]).map(jobFromRow);
  }

  jobCounts(owner: string | null): Promise<JobCount[]> {
    const rows = (owner === null ? this.#s.countsAll.all() : this.#s.countsOf.all(owner)) as JobCount[];
    return Promise.resolve(rows);
  }

  oldestQueuedAt(owner: string | null, capabilities: string[] | null): Promise<number | null> {
    const caps = capabilities === null ? null : JSON.stringify(capabilities);
    const row = (owner === null ? this.#s.oldestAll.get(caps, caps) : this.#s.oldestOf.get(owner, caps, caps)) as
      | { created_at: number }
      | undefined;
    return Promise.resolve(row?.created_at ?? null);
  }

  claimJobs(capability: string, slots: string[], now: number, leaseExpiresAt: number): Promise<JobRecord[]> {
    return this.#gc.write(() => {
      const rows = this.#s.eligible.all(capability, now, slots.length) as JobRow[];
      return rows.map((row, i) => {
        const agentId = slots[i]!;
        this.#s.assign.run(agentId, leaseExpiresAt, now, row.id);
        const job = jobFromRow(row);
        job.status = "assigned";
        job.epoch += 1;
        job.attemptsUsed += 1;
        job.agentId = agentId;
        job.leaseExpiresAt = leaseExpiresAt;
        job.runAfter = null;
        job.updatedAt = now;
        this.#s.attemptInsert.run(job.id, job.epoch, job.attemptsUsed, agentId, now);
        return job;
      });
    });
  }

  markStarted(jobId: string, agentId: string, epoch: number, now: number): Promise<FenceOutcome> {
    return this.#gc.write((): FenceOutcome => {
      const row = this.#s.started.get(now, now, jobId, agentId, epoch) as JobRow | undefined;
      if (row) return { kind: "ok", job: jobFromRow(row) };
      const f = this.#classify(jobId, agentId, epoch);
      return f.kind === "ok" ? { kind: "duplicate", job: f.job } : f; // held, but already running
    });
  }

  setProgress(
    jobId: string,
    agentId: string,
    epoch: number,
    progress: JobProgress,
    now: number,
  ): Promise<FenceOutcome> {
    return this.#gc.write((): FenceOutcome => {
      const row = this.#s.progress.get(JSON.stringify(progress), now, jobId, agentId, epoch) as JobRow | undefined;
      return row ? { kind: "ok", job: jobFromRow(row) } : this.#classify(jobId, agentId, epoch);
    });
  }

  appendLogs(jobId: string, agentId: string, epoch: number, lines: LogLineInput[], now: number) {
    return this.#gc.write(() => {
      const records: LogRecord[] = [];
      const bumped = this.#s.logSeq.get(lines.length, now, jobId, agentId, epoch) as JobRow | undefined;
      if (!bumped) return { outcome: this.#classify(jobId, agentId, epoch), records };
      const outcome: FenceOutcome = { kind: "ok", job: jobFromRow(bumped) };
      const last = bumped.log_seq;
      let seq = last - lines.length;
      for (const l of lines) {
        seq += 1;
        this.#s.logInsert.run(jobId, seq, now, l.stream, l.line);
        records.push({ seq, ts: now, stream: l.stream, line: l.line });
      }
      return { outcome, records };
    });
  }

  completeAttempt(jobId: string, agentId: string, epoch: number, output: unknown, files: FileRef[], now: number) {
    return this.#gc.write((): FenceOutcome => {
      const out = JSON.stringify(output ?? null);
      // No files reported: keep those the agent uploaded (PUT /v1/agent/jobs/:id/files/:name).
      const row = this.#s.complete.get(
        out,
        files.length ? JSON.stringify(files) : null,
        now,
        now,
        jobId,
        agentId,
        epoch,
      ) as JobRow | undefined;
      if (row) {
        this.#s.attemptEnd.run(now, null, jobId, epoch);
        return { kind: "ok", job: jobFromRow(row) };
      }
      const f = this.#classify(jobId, agentId, epoch);
      if (f.kind === "stale" && f.job.status === "completed" && f.job.epoch === epoch && f.job.agentId === agentId) {
        return { kind: "duplicate", job: f.job };
      }
      return f;
    });
  }

  endAttempt(
    jobId: string,
    agentId: string,
    epoch: number,
    endOrDecide: AttemptEnd | DecideEnd,
    now: number,
  ): Promise<FenceOutcome> {
    return this.#gc.write((): FenceOutcome => {
      // The read and the fenced write below run in one synchronous step of the single writer, inside
      // the batch's transaction: nothing can change the row in between (PostgreSQL locks it instead).
      const f = this.#classify(jobId, agentId, epoch);
      if (f.kind === "missing") return f;
      const end = typeof endOrDecide === "function" ? endOrDecide(f.job) : endOrDecide;
      if (f.kind === "stale" && this.#isResend(f.job, agentId, epoch, end)) return { kind: "duplicate", job: f.job };
      if (f.kind !== "ok") return f;
      const error = end.error ? JSON.stringify(end.error) : null;
      const row = (
        end.next === "queued"
          ? this.#s.requeue.get(error, end.runAfter, end.countsAsAttempt ? 0 : 1, now, jobId, agentId, epoch)
          : this.#s.finish.get(end.next, error, now, now, jobId, agentId, epoch)
      ) as JobRow | undefined;
      if (!row) return this.#classify(jobId, agentId, epoch);
      this.#s.attemptEnd.run(now, error, jobId, epoch);
      return { kind: "ok", job: jobFromRow(row) };
    });
  }

  requestCancel(jobId: string, now: number): Promise<JobRecord | undefined> {
    return this.#gc.write(() => {
      const row = (this.#s.cancelQueued.get(now, now, jobId) ?? this.#s.cancelFlag.get(now, now, jobId)) as
        | JobRow
        | undefined;
      return row ? jobFromRow(row) : this.#getSync(jobId);
    });
  }

  retryJob(jobId: string, now: number): Promise<JobRecord | undefined> {
    return this.#gc.write(() => {
      const row = this.#s.retry.get(now, now, jobId) as JobRow | undefined;
      return row ? jobFromRow(row) : this.#getSync(jobId);
    });
  }

  finishJob(jobId: string, status: "failed" | "cancelled", error: JobError | null, now: number) {
    return this.#gc.write(() => {
      const err = error ? JSON.stringify(error) : null;
      const row = this.#s.finishAny.get(status, err, now, now, jobId) as JobRow | undefined;
      if (!row) return this.#getSync(jobId);
      // A queued job's last attempt has ended already (ended_at set), so this touches only a held one.
      this.#s.attemptEnd.run(now, err, jobId, row.epoch);
      return jobFromRow(row);
    });
  }

  failOverdueJobs(now: number, limit: number): Promise<DeadlineEnd[]> {
    return this.#gc.write(() =>
      (this.#s.failOverdue.all({ now, limit }) as JobRow[]).map((row) => {
        this.#s.attemptEnd.run(now, row.error, row.id, row.epoch);
        const job = jobFromRow(row);
        return { job, heldBy: job.agentId === null ? null : { agentId: job.agentId, epoch: job.epoch } };
      }),
    );
  }

  getLogs(jobId: string, after: number, limit: number): Promise<LogRecord[]> {
    return Promise.resolve(this.#s.logs.all(jobId, after, limit) as LogRecord[]);
  }

  queuedCapabilities(): Promise<string[]> {
    return Promise.resolve((this.#s.queuedCaps.all() as { capability: string }[]).map((r) => r.capability));
  }

  queuedCounts(): Promise<Map<string, number>> {
    const rows = this.#s.queuedCounts.all() as { capability: string; n: number }[];
    return Promise.resolve(new Map(rows.map((r) => [r.capability, Number(r.n)])));
  }

  #getSync(id: string): JobRecord | undefined {
    const row = this.#s.get.get(id) as JobRow | undefined;
    return row ? jobFromRow(row) : undefined;
  }

  /** Reads a job to say whether a fenced message about it applies (ok), is stale, or names no job. */
  #classify(jobId: string, agentId: string, epoch: number): FenceOutcome {
    const job = this.#getSync(jobId);
    if (!job) return { kind: "missing" };
    const held = job.status === "assigned" || job.status === "running";
    if (held && job.epoch === epoch && job.agentId === agentId) return { kind: "ok", job };
    return { kind: "stale", job };
  }

  /** A resend of an end this agent already reported at this epoch (its ack was lost). */
  #isResend(job: JobRecord, agentId: string, epoch: number, end: AttemptEnd): boolean {
    // The attempt row says who held it: a requeued job no longer names its last agent.
    const row = this.#s.attemptGet.get(job.id, epoch) as AttemptRow | undefined;
    if (!row || row.ended_at === null || row.agent_id !== agentId) return false;
    const recorded = row.error === null ? null : (JSON.parse(row.error) as JobError);
    if (end.next === "cancelled") return job.status === "cancelled" && job.epoch === epoch;
    return recorded !== null && AGENT_CATEGORIES.has(recorded.category) && recorded.category === end.error?.category;
  }
}

/** The row insertJobs just wrote, without reading it back. */
function queuedRecord(j: NewJob): JobRecord {
  return {
    ...j,
    status: "queued",
    progress: null,
    output: undefined,
    outputFiles: [],
    error: null,
    epoch: 0,
    attemptsUsed: 0,
    agentId: null,
    leaseExpiresAt: null,
    cancelRequestedAt: null,
    runAfter: null,
    updatedAt: j.createdAt,
    startedAt: null,
    endedAt: null,
  };
}
