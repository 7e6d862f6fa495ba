import { type AgentRow, agentFromRow, type CommandRow, commandFromRow } from "../sqlite/rows.ts";
import type { Store } from "../store.ts";
import { KeyedSerial } from "./keyed-serial.ts";
import { PostgresCredentials } from "./postgres-credentials.ts";
import { createPool, type PostgresOptions } from "./postgres-db.ts";
import { PostgresFiles } from "./postgres-files.ts";
import { PostgresJobs } from "./postgres-jobs.ts";
import { PostgresLeases } from "./postgres-leases.ts";
import { migratePostgres } from "./postgres-migrate.ts";
import { deleteFinishedBefore } from "./postgres-retention.ts";
import { TickBatcher } from "./tick-batcher.ts";

const SQL = {
  agentInsert: `INSERT INTO agents (id, name, display_name, key_hash, enrolment_key_id, capabilities, tier, capacity,
    system_info, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
  agentGet:
    "SELECT a.*, r.seen_at AS session_replica_seen_at FROM agents a LEFT JOIN replicas r ON r.id = a.session_replica WHERE a.id = $1",
  agentList:
    "SELECT a.*, r.seen_at AS session_replica_seen_at FROM agents a LEFT JOIN replicas r ON r.id = a.session_replica ORDER BY a.registered_at",
  // Contract: one agent row; the epoch rises and the link's place is recorded in the same statement.
  sessionOpen: `UPDATE agents SET session_epoch = session_epoch + 1, session_replica = $1, session_transport = $2
    WHERE id = $3 RETURNING session_epoch`,
  // Contract: one agent row, only while this is still its current session.
  sessionClose: "UPDATE agents SET session_replica = NULL WHERE id = $1 AND session_epoch = $2",
  // Contract: one row per agent of the batch (ids unique); a null keeps the stored value. Heartbeats of
  // a turn go together: on a shared database they are written with every beat (agent-heartbeat.ts).
  agentStates: `UPDATE agents a SET status = COALESCE(v.status, a.status), metrics = COALESCE(v.metrics, a.metrics),
    health = COALESCE(v.health, a.health), last_seen_at = v.last_seen_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS v(id, status, metrics, health, last_seen_at)
    WHERE a.id = v.id`,
  agentProfile: "UPDATE agents SET capabilities = $1, capacity = $2, tier = $3 WHERE id = $4",
  agentRevoke: "UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
  cmdInsert: `INSERT INTO agent_commands (id, agent_id, type, params, jws, status, issued_at, expires_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  cmdGet: "SELECT * FROM agent_commands WHERE id = $1",
  cmdList: "SELECT * FROM agent_commands WHERE agent_id = $1 ORDER BY issued_at DESC LIMIT $2",
  // Contract: one command, only from a non-final status.
  cmdSettle: `UPDATE agent_commands SET status = $1, output = $2, error = $3, completed_at = $4
    WHERE id = $5 AND agent_id = $6 AND status IN ('pending', 'sent')`,
  metaGet: "SELECT value FROM meta WHERE key = $1",
  metaSet: "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
};

/**
 * The shared store: PostgreSQL, for any number of server replicas. Plain SQL on `pg` (node-postgres):
 * the queue's hot statements lean on PostgreSQL-only forms (FOR UPDATE SKIP LOCKED in CTEs, unnest
 * WITH ORDINALITY, json_populate_recordset) that a query builder such as Kysely would only wrap as raw
 * SQL, and keeping the text in files named for what it does is the house style; `pg` rather than
 * `postgres` for its pool that drops broken connections and reconnects by itself (a database restart)
 * and for being what most operators already run. Every write resolves once committed.
 */
export async function openPostgresStore(o: PostgresOptions): Promise<Store> {
  const pool = createPool(o);
  const c = await pool.connect();
  try {
    if (o.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS "${o.schema}"`);
    await migratePostgres(c);
  } finally {
    c.release();
  }
  const jobs = new PostgresJobs(pool);
  const leases = new PostgresLeases(pool);
  const files = new PostgresFiles(pool);
  const creds = new PostgresCredentials(pool);
  const perJob = new KeyedSerial();
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  const one = async <R, T>(sql: string, args: unknown[], map: (r: R) => T): Promise<T | undefined> => {
    const row = (await pool.query(sql, args)).rows[0] as R | undefined;
    return row === undefined ? undefined : map(row);
  };
  const run = async (sql: string, args: unknown[]) => {
    await pool.query(sql, args);
  };
  type State = { id: string; status: string | null; metrics: string | null; health: string | null; at: number };
  const states = new TickBatcher<State, void>(async (ins) => {
    // One row per agent: a later state of the same turn wins, field by field (null keeps the earlier).
    const byId = new Map<string, State>();
    for (const s of ins) {
      const prev = byId.get(s.id);
      byId.set(
        s.id,
        prev
          ? {
              ...s,
              status: s.status ?? prev.status,
              metrics: s.metrics ?? prev.metrics,
              health: s.health ?? prev.health,
            }
          : s,
      );
    }
    // In id order: two batches in flight lock their rows in the same order and cannot deadlock.
    const rows = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    await pool.query(SQL.agentStates, [
      rows.map((r) => r.id),
      rows.map((r) => r.status),
      rows.map((r) => r.metrics),
      rows.map((r) => r.health),
      rows.map((r) => r.at),
    ]);
    return ins.map(() => undefined);
  });

  return {
    barrier: () => Promise.resolve(),
    storageIssue: () => null,
    close: () => pool.end(),
    insertJobs: (j) => jobs.insertJobs(j),
    getJob: (id) => jobs.getJob(id),
    getAttempts: (ids) => jobs.getAttempts(ids),
    listJobs: (f) => jobs.listJobs(f),
    jobCounts: (owner) => jobs.jobCounts(owner),
    oldestQueuedAt: (owner, caps) => jobs.oldestQueuedAt(owner, caps),
    compactJobCounts: () => jobs.compactJobCounts(),
    claimJobs: (cap, slots, now, lease) => jobs.claimJobs(cap, slots, now, lease),
    // An agent's messages about one job apply in the order they were issued (KeyedSerial).
    markStarted: (id, a, e, now) => perJob.run(id, () => jobs.markStarted(id, a, e, now)),
    setProgress: (id, a, e, pr, now) => perJob.run(id, () => jobs.setProgress(id, a, e, pr, now)),
    appendLogs: (id, a, e, lines, now) => perJob.run(id, () => jobs.appendLogs(id, a, e, lines, now)),
    completeAttempt: (id, a, e, out, f, now) => perJob.run(id, () => jobs.completeAttempt(id, a, e, out, f, now)),
    endAttempt: (id, a, e, end, now) => perJob.run(id, () => jobs.endAttempt(id, a, e, end, now)),
    renewLeases: (a, listed, now, lease, quiet) => leases.renewLeases(a, listed, now, lease, quiet),
    expireLeases: (now, limit, decide) => leases.expireLeases(now, limit, decide),
    heldJobs: (a) => leases.heldJobs(a),
    heldCounts: () => leases.heldCounts(),
    requestCancel: (id, now) => jobs.requestCancel(id, now),
    retryJob: (id, now) => jobs.retryJob(id, now),
    finishJob: (id, st, err, now) => jobs.finishJob(id, st, err, now),
    getLogs: (id, after, limit) => jobs.getLogs(id, after, limit),
    failOverdueJobs: (now, limit) => jobs.failOverdueJobs(now, limit),
    replicaAlive: (id, now, within, restart) => leases.replicaAlive(id, now, within, restart),
    liveReplicas: (since) => leases.liveReplicas(since),
    queuedCapabilities: () => jobs.queuedCapabilities(),
    queuedCounts: () => jobs.queuedCounts(),
    deleteFinishedBefore: (cutoff, limit) => deleteFinishedBefore(pool, cutoff, limit),

    fileUsage: (owner) => files.fileUsage(owner),
    addOwnedFiles: (owner, f, quota, now) => files.addOwnedFiles(owner, f, quota, now),
    claimOwnedFiles: (owner, hashes, now) => files.claimOwnedFiles(owner, hashes, now),
    getOwnedFile: (owner, hash) => files.getOwnedFile(owner, hash),
    addJobOutput: (id, a, e, f, now) => perJob.run(id, () => files.addJobOutput(id, a, e, f, now)),
    collectBlobs: (before, limit) => files.collectBlobs(before, limit),
    blobRecorded: (hash) => files.blobRecorded(hash),

    insertAgent: (a) =>
      run(SQL.agentInsert, [
        a.id,
        a.name,
        a.displayName,
        a.keyHash,
        a.enrolmentKeyId,
        JSON.stringify(a.capabilities),
        a.tier,
        a.capacity,
        JSON.stringify(a.systemInfo),
        a.registeredAt,
      ]),
    getAgent: (id) => one(SQL.agentGet, [id], (r: AgentRow) => agentFromRow(r)),
    listAgents: async () => (await pool.query<AgentRow>(SQL.agentList)).rows.map(agentFromRow),
    updateAgentState: (id, st) =>
      states.add({
        id,
        status: st.status ?? null,
        metrics: json(st.metrics),
        health: json(st.health),
        at: st.lastSeenAt,
      }),
    updateAgentProfile: (id, pr) => run(SQL.agentProfile, [JSON.stringify(pr.capabilities), pr.capacity, pr.tier, id]),
    revokeAgent: (id, now) => one(SQL.agentRevoke, [now, id], (r: AgentRow) => agentFromRow(r)),
    openAgentSession: (id, replica, transport) =>
      one(SQL.sessionOpen, [replica, transport, id], (r: { session_epoch: number }) => r.session_epoch),
    closeAgentSession: (id, epoch) => run(SQL.sessionClose, [id, epoch]),
    insertCommand: (cmd) =>
      run(SQL.cmdInsert, [
        cmd.id,
        cmd.agentId,
        cmd.type,
        json(cmd.params),
        cmd.jws,
        cmd.status,
        cmd.issuedAt,
        cmd.expiresAt,
      ]),
    getCommand: (id) => one(SQL.cmdGet, [id], (r: CommandRow) => commandFromRow(r)),
    listCommands: async (agentId, limit) =>
      (await pool.query<CommandRow>(SQL.cmdList, [agentId, limit])).rows.map(commandFromRow),
    settleCommand: async (id, agentId, status, output, error, now) => {
      await run(SQL.cmdSettle, [status, json(output), error, status === "sent" ? null : now, id, agentId]);
      return one(SQL.cmdGet, [id], (r: CommandRow) => commandFromRow(r));
    },
    insertApiKey: (k) => creds.insertApiKey(k),
    findApiKeyByHash: (hash) => creds.findApiKeyByHash(hash),
    getApiKey: (id) => creds.getApiKey(id),
    listApiKeys: (owner, page) => creds.listApiKeys(owner, page),
    revokeApiKey: (id, now) => creds.revokeApiKey(id, now),
    touchApiKey: (id, now, gap) => creds.touchApiKey(id, now, gap),
    useEnrolmentKey: (hash, now) => creds.useEnrolmentKey(hash, now),
    insertUser: (u) => creds.insertUser(u),
    findUserByName: (name) => creds.findUserByName(name),
    getUser: (id) => creds.getUser(id),
    listUsers: (page) => creds.listUsers(page),
    updateUser: (id, patch, now) => creds.updateUser(id, patch, now),
    deleteUser: (id, now) => creds.deleteUser(id, now),
    insertRefreshToken: (hash, userId, family, expiresAt) => creds.insertRefreshToken(hash, userId, family, expiresAt),
    rotateRefreshToken: (old, next, now, expiresAt) => creds.rotateRefreshToken(old, next, now, expiresAt),
    revokeRefreshFamily: (family, now) => creds.revokeRefreshFamily(family, now),
    sessionRevoked: (family) => creds.sessionRevoked(family),
    insertAudit: (e) => creds.insertAudit(e),
    listAudit: (page) => creds.listAudit(page),
    deleteAuditBefore: (cutoff, limit) => creds.deleteAuditBefore(cutoff, limit),
    getMeta: (key) => one(SQL.metaGet, [key], (r: { value: string }) => r.value),
    setMeta: (key, value) => run(SQL.metaSet, [key, value]),
  };
}

export type { PostgresOptions };
