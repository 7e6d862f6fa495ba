import type { FileRef, JobError, JobProgress } from "@gantry/protocol";
import type pg from "pg";
import { listByStatuses } from "../list-by-statuses.ts";
import { type AttemptRow, attemptFromRow, type JobRow, jobFromRow } from "../sqlite/rows.ts";
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
import { inTransaction } from "./postgres-db.ts";
import { TickBatcher } from "./tick-batcher.ts";

const HELD = "status IN ('assigned','running')";
/** The predicate of the list indexes (migration 004), spelled as there so the planner can prove it. */
const LISTED = "status IN ('queued','completed','failed','cancelled')";
const AGENT_CATEGORIES = new Set(["transient", "model", "inference", "fatal"]);
const INSERT_COLUMNS = `id, capability, capability_full, payload, inputs, priority, owner, idempotency_key, request_hash,
  timeout_secs, max_wait_secs, runtime_secs, max_attempts, backoff_ms, status, created_at, updated_at, deadline_at,
  pickup_deadline_at`;

const SQL = {
  // Contract: inserts a batch in one statement; a row whose owner + idempotency key exists already
  // inserts nothing (ON CONFLICT, waiting for a concurrent inserter of the same key to commit) and is
  // absent from the returned ids.
  insert: `INSERT INTO jobs (${INSERT_COLUMNS})
    SELECT ${INSERT_COLUMNS} FROM json_populate_recordset(NULL::jobs, $1::json)
    ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id`,
  byIdem: "SELECT * FROM jobs WHERE owner = $1 AND idempotency_key = $2",
  get: "SELECT * FROM jobs WHERE id = $1",
  lock: "SELECT * FROM jobs WHERE id = $1 FOR UPDATE",
  // Counters (migration 004): folded counters plus the deltas not yet folded, read in one statement
  // so a concurrent compaction is seen wholly or not at all. $1 null = every owner.
  counts: `SELECT capability, status, sum(n) AS n FROM (
      SELECT capability, status, n FROM job_counts WHERE $1::text IS NULL OR owner = $1
      UNION ALL SELECT capability, status, n FROM job_count_deltas WHERE $1::text IS NULL OR owner = $1) c
    GROUP BY capability, status HAVING sum(n) <> 0`,
  // Contract: moves every committed delta into job_counts in one statement. Replicas compacting at
  // once take disjoint rows (a DELETE that finds a row already deleted skips it), so each delta is
  // added once.
  compactCounts: `WITH moved AS (DELETE FROM job_count_deltas RETURNING owner, capability, status, n)
    INSERT INTO job_counts (owner, capability, status, n)
    SELECT owner, capability, status, sum(n) FROM moved GROUP BY owner, capability, status
    ON CONFLICT (owner, capability, status) DO UPDATE SET n = job_counts.n + excluded.n`,
  // The oldest queued job: the queued end of jobs_status_list / jobs_owner_status_list, in id order.
  oldestAll: `SELECT created_at FROM jobs WHERE ${LISTED} AND status = 'queued'
    AND ($1::text[] IS NULL OR capability = ANY($1)) ORDER BY id LIMIT 1`,
  oldestOf: `SELECT created_at FROM jobs WHERE ${LISTED} AND owner = $1 AND status = 'queued'
    AND ($2::text[] IS NULL OR capability = ANY($2)) ORDER BY id LIMIT 1`,
  // Contract (the claim): locks at most $3 queued, eligible jobs of capability $1 (priority desc, then
  // age, jobs_queue) that no other claimer holds (SKIP LOCKED: concurrent claimers on any replica take
  // disjoint rows without waiting), assigns the i-th to the i-th slot in $4 (epoch + 1, lease $5) and
  // writes their attempt rows, all in one statement. Measured: see bench/README.md.
  claim: `WITH locked AS (
      SELECT id, priority FROM jobs WHERE capability = $1 AND status = 'queued' AND (run_after IS NULL OR run_after <= $2)
      ORDER BY priority DESC, id LIMIT $3 FOR UPDATE SKIP LOCKED),
    numbered AS (SELECT id, row_number() OVER (ORDER BY priority DESC, id) AS rn FROM locked),
    slots AS (SELECT agent, ord FROM unnest($4::text[]) WITH ORDINALITY AS s(agent, ord)),
    upd AS (UPDATE jobs j SET status = 'assigned', epoch = j.epoch + 1, attempts_used = j.attempts_used + 1,
        agent_id = slots.agent, lease_expires_at = $5, run_after = NULL, output_files = '[]', updated_at = $2
      FROM numbered JOIN slots ON slots.ord = numbered.rn WHERE j.id = numbered.id RETURNING j.*),
    att AS (INSERT INTO job_attempts (job_id, epoch, n, agent_id, started_at)
      SELECT id, epoch, attempts_used, agent_id, $2 FROM upd)
    SELECT * FROM upd ORDER BY priority DESC, id`,
  // Contract for the fenced updates: one row, only if held by agent $a at epoch $e; the new row or none.
  // Contract (one turn's job:started messages, batched): each listed (id, agent, epoch) row only if
  // still assigned to that agent at that epoch; returns the rows started.
  started: `UPDATE jobs j SET status = 'running', started_at = COALESCE(j.started_at, i.now), updated_at = i.now
    FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS i(id, agent, epoch, now)
    WHERE j.id = i.id AND j.agent_id = i.agent AND j.epoch = i.epoch AND j.status = 'assigned' RETURNING j.*`,
  progress: `UPDATE jobs SET progress = $1, updated_at = $2
    WHERE id = $3 AND agent_id = $4 AND epoch = $5 AND ${HELD} RETURNING *`,
  // Contract: numbers and inserts a batch of log lines in one statement, only for the holder.
  logs: `WITH b AS (UPDATE jobs SET log_seq = log_seq + cardinality($5::text[]), updated_at = $1
      WHERE id = $2 AND agent_id = $3 AND epoch = $4 AND ${HELD} RETURNING *),
    ins AS (INSERT INTO job_logs (job_id, seq, ts, stream, line)
      SELECT b.id, b.log_seq - cardinality($5::text[]) + l.ord, $1, l.stream, l.line
      FROM b, unnest($5::text[], $6::text[]) WITH ORDINALITY AS l(stream, line, ord))
    SELECT * FROM b`,
  getLogs: "SELECT seq, ts, stream, line FROM job_logs WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
  // Contract (one turn's completions, batched): completes each listed job still held by that agent at
  // that epoch and ends its attempt row, in one statement; returns the rows completed. Batching per
  // turn: see TickBatcher.
  complete: `WITH i AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[])
        AS i(id, agent, epoch, output, files, now)),
    c AS (UPDATE jobs j SET status = 'completed', output = i.output, output_files = COALESCE(i.files, j.output_files),
        lease_expires_at = NULL, error = NULL, ended_at = i.now, updated_at = i.now
      FROM i WHERE j.id = i.id AND j.agent_id = i.agent AND j.epoch = i.epoch AND j.${HELD} RETURNING j.*),
    a AS (UPDATE job_attempts SET ended_at = c.ended_at, error = NULL FROM c
      WHERE job_attempts.job_id = c.id AND job_attempts.epoch = c.epoch AND job_attempts.ended_at IS NULL)
    SELECT * FROM c`,
  attemptsOf: "SELECT * FROM job_attempts WHERE job_id = ANY($1) ORDER BY job_id, epoch",
  attemptGet: "SELECT * FROM job_attempts WHERE job_id = $1 AND epoch = $2",
  attemptEnd: "UPDATE job_attempts SET ended_at = $1, error = $2 WHERE job_id = $3 AND epoch = $4 AND ended_at IS NULL",
  // Contract for requeue/finish: one row, fenced (run under the row lock endAttempt took).
  requeue: `UPDATE jobs SET status = 'queued', error = $1, agent_id = NULL, lease_expires_at = NULL, run_after = $2,
    attempts_used = attempts_used - $3, updated_at = $4 WHERE id = $5 AND agent_id = $6 AND epoch = $7 AND ${HELD}
    RETURNING *`,
  finish: `UPDATE jobs SET status = $1, error = $2, lease_expires_at = NULL, cancel_requested_at = NULL,
    ended_at = $3, updated_at = $3 WHERE id = $4 AND agent_id = $5 AND epoch = $6 AND ${HELD} RETURNING *`,
  // Contract: queued → cancelled, one row, only while queued.
  cancelQueued: `UPDATE jobs SET status = 'cancelled', ended_at = $1, updated_at = $1
    WHERE id = $2 AND status = 'queued' RETURNING *`,
  // Contract: a held job's cancel flag, one row, only while held and not yet flagged.
  cancelFlag: `UPDATE jobs SET cancel_requested_at = $1, updated_at = $1
    WHERE id = $2 AND ${HELD} AND cancel_requested_at IS NULL RETURNING *`,
  // Contract: ends a queued or held job and its open attempt, one statement, only while not finished.
  finishAny: `WITH f AS (UPDATE jobs SET status = $1, error = $2, lease_expires_at = NULL, cancel_requested_at = NULL,
        ended_at = $3, updated_at = $3 WHERE id = $4 AND status IN ('queued','assigned','running') RETURNING *),
    a AS (UPDATE job_attempts SET ended_at = $3, error = $2 FROM f
      WHERE job_attempts.job_id = f.id AND job_attempts.epoch = f.epoch AND job_attempts.ended_at IS NULL)
    SELECT * FROM f`,
  // Contract: only from failed/cancelled, one row.
  retry: `UPDATE jobs SET status = 'queued', error = NULL, agent_id = NULL, output = NULL, output_files = '[]',
    progress = NULL, attempts_used = 0, run_after = NULL, cancel_requested_at = NULL, ended_at = NULL, updated_at = $1,
    deadline_at = CASE WHEN timeout_secs IS NULL THEN NULL ELSE $1 + (timeout_secs * 1000)::bigint END,
    pickup_deadline_at = NULL WHERE id = $2 AND status IN ('failed','cancelled') RETURNING *`,
  // Contract (deadline sweep): locks (SKIP LOCKED) at most $2 overdue jobs, fails them and ends their
  // open attempts in one statement; replicas sweeping at once fail each job once.
  failOverdue: `WITH picked AS (
      SELECT id FROM jobs WHERE id IN (
        SELECT id FROM jobs WHERE deadline_at <= $1 AND status IN ('queued','assigned','running')
        UNION SELECT id FROM jobs WHERE pickup_deadline_at <= $1 AND status = 'queued' AND epoch = 0)
      LIMIT $2 FOR UPDATE SKIP LOCKED),
    f AS (UPDATE jobs j SET status = 'failed', lease_expires_at = NULL, cancel_requested_at = NULL,
        ended_at = $1, updated_at = $1,
        error = CASE WHEN j.deadline_at <= $1
          THEN json_build_object('category', 'timeout', 'code', 'timeout',
            'message', 'not finished within timeoutSecs=' || j.timeout_secs::text)::text
          ELSE json_build_object('category', 'timeout', 'code', 'max_wait',
            'message', 'no agent picked it up within maxWaitSecs=' || j.max_wait_secs::text)::text END
      FROM picked WHERE j.id = picked.id AND j.status IN ('queued','assigned','running') RETURNING j.*),
    a AS (UPDATE job_attempts SET ended_at = $1, error = f.error FROM f
      WHERE job_attempts.job_id = f.id AND job_attempts.epoch = f.epoch AND job_attempts.ended_at IS NULL)
    SELECT * FROM f`,
  queuedCaps: "SELECT DISTINCT capability FROM jobs WHERE status = 'queued'",
};

/** The job verbs of the PostgreSQL store: each decides inside its statement or its row-locking transaction. */
export class PostgresJobs {
  readonly #pool: pg.Pool;
  readonly #started: TickBatcher<StartedInput, JobRow | undefined>;
  readonly #completed: TickBatcher<CompletedInput, JobRow | undefined>;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
    this.#started = new TickBatcher(async (ins) => {
      const rows = await this.#rows(SQL.started, [
        ins.map((i) => i.id),
        ins.map((i) => i.agent),
        ins.map((i) => i.epoch),
        ins.map((i) => i.now),
      ]);
      return matchRows(ins, rows);
    });
    this.#completed = new TickBatcher(async (ins) => {
      const rows = await this.#rows(SQL.complete, [
        ins.map((i) => i.id),
        ins.map((i) => i.agent),
        ins.map((i) => i.epoch),
        ins.map((i) => i.output),
        ins.map((i) => i.files),
        ins.map((i) => i.now),
      ]);
      return matchRows(ins, rows);
    });
  }

  async #rows(sql: string, args: unknown[], c: pg.ClientBase | pg.Pool = this.#pool): Promise<JobRow[]> {
    return (await c.query<JobRow>(sql, args)).rows;
  }

  insertJobs(jobs: NewJob[]): Promise<InsertOutcome[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    const records = jobs.map((j) => ({
      id: j.id,
      capability: j.capability,
      capability_full: j.capabilityFull,
      payload: JSON.stringify(j.payload ?? null),
      inputs: JSON.stringify(j.inputs),
      priority: j.priority,
      owner: j.owner,
      idempotency_key: j.idempotencyKey,
      request_hash: j.requestHash,
      timeout_secs: j.timeoutSecs,
      max_wait_secs: j.maxWaitSecs,
      runtime_secs: j.runtimeSecs,
      max_attempts: j.maxAttempts,
      backoff_ms: j.backoffMs,
      status: "queued",
      created_at: j.createdAt,
      updated_at: j.createdAt,
      deadline_at: j.timeoutSecs === null ? null : Math.round(j.createdAt + j.timeoutSecs * 1000),
      pickup_deadline_at: j.maxWaitSecs === null ? null : Math.round(j.createdAt + j.maxWaitSecs * 1000),
    }));
    return inTransaction(this.#pool, async (c) => {
      const inserted = new Set(
        (await c.query<{ id: string }>(SQL.insert, [JSON.stringify(records)])).rows.map((r) => r.id),
      );
      const out: InsertOutcome[] = [];
      for (const j of jobs) {
        if (inserted.has(j.id)) {
          out.push({ job: queuedRecord(j), created: true });
          continue;
        }
        const [existing] = await this.#rows(SQL.byIdem, [j.owner, j.idempotencyKey], c);
        if (!existing) throw new Error(`job ${j.id} was not inserted`);
        if (existing.request_hash !== j.requestHash) throw new IdempotencyConflict(existing.id);
        out.push({ job: jobFromRow(existing), created: false });
      }
      return out;
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const [row] = await this.#rows(SQL.get, [id]);
    return row ? jobFromRow(row) : undefined;
  }

  async getAttempts(jobIds: string[]): Promise<Map<string, AttemptRecord[]>> {
    const out = new Map<string, AttemptRecord[]>();
    if (jobIds.length === 0) return out;
    const { rows } = await this.#pool.query<AttemptRow>(SQL.attemptsOf, [jobIds]);
    for (const r of rows) {
      const list = out.get(r.job_id) ?? [];
      list.push(attemptFromRow(r));
      out.set(r.job_id, list);
    }
    return out;
  }

  listJobs(f: JobFilter): Promise<JobRecord[]> {
    return listByStatuses(f, (one) => this.#listOne(one));
  }

  /**
   * At most one status. Queued and finished jobs: the list index (004) of the filter, walked in id
   * order. Held jobs: the held jobs (bounded by the fleet's slots), sorted.
   */
  async #listOne(f: JobFilter): Promise<JobRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: (n: number) => string, value: unknown) => {
      args.push(value);
      where.push(clause(args.length));
    };
    if (f.statuses !== null) {
      const status = f.statuses[0]!;
      where.push(status === "assigned" || status === "running" ? HELD : LISTED);
      add((n) => `status = $${n}`, status);
    }
    if (f.owner !== null) add((n) => `owner = $${n}`, f.owner);
    if (f.capability !== null) add((n) => `capability = $${n}`, f.capability);
    if (f.beforeId !== null) add((n) => `id < $${n}`, f.beforeId);
    args.push(f.limit);
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT $${args.length}`;
    return (await this.#rows(sql, args)).map(jobFromRow);
  }

  async jobCounts(owner: string | null): Promise<JobCount[]> {
    const { rows } = await this.#pool.query<{ capability: string; status: JobCount["status"]; n: string }>(SQL.counts, [
      owner,
    ]);
    return rows.map((r) => ({ capability: r.capability, status: r.status, n: Number(r.n) }));
  }

  async oldestQueuedAt(owner: string | null, capabilities: string[] | null): Promise<number | null> {
    const { rows } = await this.#pool.query<{ created_at: string }>(owner === null ? SQL.oldestAll : SQL.oldestOf, [
      ...(owner === null ? [] : [owner]),
      capabilities,
    ]);
    return rows[0] ? Number(rows[0].created_at) : null;
  }

  async compactJobCounts(): Promise<void> {
    await this.#pool.query(SQL.compactCounts);
  }

  async claimJobs(capability: string, slots: string[], now: number, leaseExpiresAt: number): Promise<JobRecord[]> {
    if (slots.length === 0) return [];
    return (await this.#rows(SQL.claim, [capability, now, slots.length, slots, leaseExpiresAt])).map(jobFromRow);
  }

  async markStarted(jobId: string, agentId: string, epoch: number, now: number): Promise<FenceOutcome> {
    const row = await this.#started.add({ id: jobId, agent: agentId, epoch, now });
    if (row) return { kind: "ok", job: jobFromRow(row) };
    const f = await this.#classify(jobId, agentId, epoch);
    return f.kind === "ok" ? { kind: "duplicate", job: f.job } : f;
  }

  async setProgress(jobId: string, agentId: string, epoch: number, progress: JobProgress, now: number) {
    const [row] = await this.#rows(SQL.progress, [JSON.stringify(progress), now, jobId, agentId, epoch]);
    return row ? ({ kind: "ok", job: jobFromRow(row) } as const) : this.#classify(jobId, agentId, epoch);
  }

  async appendLogs(jobId: string, agentId: string, epoch: number, lines: LogLineInput[], now: number) {
    const records: LogRecord[] = [];
    const [row] = await this.#rows(SQL.logs, [
      now,
      jobId,
      agentId,
      epoch,
      lines.map((l) => l.stream),
      lines.map((l) => l.line),
    ]);
    if (!row) return { outcome: await this.#classify(jobId, agentId, epoch), records };
    let seq = row.log_seq - lines.length;
    for (const l of lines) records.push({ seq: ++seq, ts: now, stream: l.stream, line: l.line });
    return { outcome: { kind: "ok", job: jobFromRow(row) } as FenceOutcome, records };
  }

  async completeAttempt(jobId: string, agentId: string, epoch: number, output: unknown, files: FileRef[], now: number) {
    const row = await this.#completed.add({
      id: jobId,
      agent: agentId,
      epoch,
      output: JSON.stringify(output ?? null),
      files: files.length ? JSON.stringify(files) : null,
      now,
    });
    if (row) return { kind: "ok", job: jobFromRow(row) } as FenceOutcome;
    const f = await this.#classify(jobId, agentId, epoch);
    if (f.kind === "stale" && f.job.status === "completed" && f.job.epoch === epoch && f.job.agentId === agentId) {
      return { kind: "duplicate", job: f.job } as FenceOutcome;
    }
    return f;
  }

  endAttempt(
    jobId: string,
    agentId: string,
    epoch: number,
    endOrDecide: AttemptEnd | DecideEnd,
    now: number,
  ): Promise<FenceOutcome> {
    // The row is locked (FOR UPDATE) while the policy decides on it, so no other replica's verb can
    // change it between the decision and the write.
    return inTransaction(this.#pool, async (c): Promise<FenceOutcome> => {
      const [locked] = await this.#rows(SQL.lock, [jobId], c);
      if (!locked) return { kind: "missing" };
      const job = jobFromRow(locked);
      const end = typeof endOrDecide === "function" ? endOrDecide(job) : endOrDecide;
      const held = (job.status === "assigned" || job.status === "running") && job.epoch === epoch;
      if (!held || job.agentId !== agentId) {
        if (await this.#isResend(c, job, agentId, epoch, end)) return { kind: "duplicate", job };
        return { kind: "stale", job };
      }
      const error = end.error ? JSON.stringify(end.error) : null;
      const [row] =
        end.next === "queued"
          ? await this.#rows(
              SQL.requeue,
              [error, end.runAfter, end.countsAsAttempt ? 0 : 1, now, jobId, agentId, epoch],
              c,
            )
          : await this.#rows(SQL.finish, [end.next, error, now, jobId, agentId, epoch], c);
      if (!row) return { kind: "stale", job };
      await c.query(SQL.attemptEnd, [now, error, jobId, epoch]);
      return { kind: "ok", job: jobFromRow(row) };
    });
  }

  async requestCancel(jobId: string, now: number): Promise<JobRecord | undefined> {
    const [row] = (await this.#rows(SQL.cancelQueued, [now, jobId])).concat(
      await this.#rows(SQL.cancelFlag, [now, jobId]),
    );
    return row ? jobFromRow(row) : this.getJob(jobId);
  }

  async retryJob(jobId: string, now: number): Promise<JobRecord | undefined> {
    const [row] = await this.#rows(SQL.retry, [now, jobId]);
    return row ? jobFromRow(row) : this.getJob(jobId);
  }

  async finishJob(jobId: string, status: "failed" | "cancelled", error: JobError | null, now: number) {
    const [row] = await this.#rows(SQL.finishAny, [status, error ? JSON.stringify(error) : null, now, jobId]);
    return row ? jobFromRow(row) : this.getJob(jobId);
  }

  async failOverdueJobs(now: number, limit: number): Promise<DeadlineEnd[]> {
    return (await this.#rows(SQL.failOverdue, [now, limit])).map((row) => {
      const job = jobFromRow(row);
      return { job, heldBy: job.agentId === null ? null : { agentId: job.agentId, epoch: job.epoch } };
    });
  }

  async getLogs(jobId: string, after: number, limit: number): Promise<LogRecord[]> {
    return (await this.#pool.query<LogRecord>(SQL.getLogs, [jobId, after, limit])).rows;
  }

  async queuedCapabilities(): Promise<string[]> {
    return (await this.#pool.query<{ capability: string }>(SQL.queuedCaps)).rows.map((r) => r.capability);
  }

  async queuedCounts(): Promise<Map<string, number>> {
    const sql = "SELECT capability, COUNT(*)::int AS n FROM jobs WHERE status = 'queued' GROUP BY capability";
    const rows = (await this.#pool.query<{ capability: string; n: number }>(sql)).rows;
    return new Map(rows.map((r) => [r.capability, Number(r.n)]));
  }

  /** Reads a job to say why a fenced write did not apply (stale or missing), or that it would (ok). */
  async #classify(jobId: string, agentId: string, epoch: number): Promise<FenceOutcome> {
    const job = await this.getJob(jobId);
    if (!job) return { kind: "missing" };
    const held = job.status === "assigned" || job.status === "running";
    if (held && job.epoch === epoch && job.agentId === agentId) return { kind: "ok", job };
    return { kind: "stale", job };
  }

  /** A resend of an end this agent already reported at this epoch (its ack was lost). */
  async #isResend(c: pg.ClientBase, job: JobRecord, agentId: string, epoch: number, end: AttemptEnd) {
    const { rows } = await c.query<AttemptRow>(SQL.attemptGet, [job.id, epoch]);
    const row = rows[0];
    if (!row || row.ended_at === null || row.agent_id !== agentId) return false;
    const recorded = row.error === null ? null : (JSON.parse(row.error) as JobError);
    if (end.next === "cancelled") return job.status === "cancelled" && job.epoch === epoch;
    return recorded !== null && AGENT_CATEGORIES.has(recorded.category) && recorded.category === end.error?.category;
  }
}

interface StartedInput {
  id: string;
  agent: string;
  epoch: number;
  now: number;
}
interface CompletedInput extends StartedInput {
  output: string;
  files: string | null;
}

/** The returned row for each input (by id, epoch and agent), or undefined when its fence refused it. */
function matchRows(ins: StartedInput[], rows: JobRow[]): Array<JobRow | undefined> {
  const byKey = new Map(rows.map((r) => [`${r.id}@${r.epoch}@${r.agent_id}`, r]));
  return ins.map((i) => byKey.get(`${i.id}@${i.epoch}@${i.agent}`));
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
