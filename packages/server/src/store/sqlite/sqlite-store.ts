import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { AgentHealth, AgentMetrics, AgentStatus } from "@gantry/protocol";
import Database from "better-sqlite3";
import type { AgentRecord, CommandRecord, Store } from "../store.ts";
import { GroupCommit } from "./group-commit.ts";
import { migrate } from "./migrate.ts";
import { type AgentRow, agentFromRow, type CommandRow, commandFromRow } from "./rows.ts";
import { SqliteCredentials } from "./sqlite-credentials.ts";
import { SqliteFiles } from "./sqlite-files.ts";
import { SqliteJobs } from "./sqlite-jobs.ts";
import { SqliteLeases } from "./sqlite-leases.ts";
import { SqliteRetention } from "./sqlite-retention.ts";

/**
 * The embedded store: one better-sqlite3 connection in WAL mode, an fsync of the WAL per commit (so an
 * acknowledged write survives kill -9 and power loss), writes grouped per event-loop turn. The fsync
 * runs off the event loop (synchronous=NORMAL plus GroupCommit's fdatasync of the WAL; see there).
 */
export function openSqliteStore(path: string): Store {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = OFF");
  migrate(db);
  const gc = new GroupCommit(db, { walPath: `${path}-wal` });
  const jobs = new SqliteJobs(db, gc);
  const leases = new SqliteLeases(db, gc);
  const files = new SqliteFiles(db, gc);
  const retention = new SqliteRetention(db, gc);
  const creds = new SqliteCredentials(db, gc);
  const p = (sql: string) => db.prepare(sql);
  const s = {
    agentInsert:
      p(`INSERT INTO agents (id, name, display_name, key_hash, enrolment_key_id, capabilities, tier, capacity,
      system_info, registered_at) VALUES (@id, @name, @displayName, @keyHash, @enrolmentKeyId, @capabilities, @tier, @capacity, @systemInfo, @registeredAt)`),
    agentGet: p(
      "SELECT a.*, r.seen_at AS session_replica_seen_at FROM agents a LEFT JOIN replicas r ON r.id = a.session_replica WHERE a.id = ?",
    ),
    agentList: p(
      "SELECT a.*, r.seen_at AS session_replica_seen_at FROM agents a LEFT JOIN replicas r ON r.id = a.session_replica ORDER BY a.registered_at",
    ),
    // Contract: one agent row; the epoch rises and the link's place is recorded in the same statement.
    sessionOpen: p(`UPDATE agents SET session_epoch = session_epoch + 1, session_replica = ?, session_transport = ?
      WHERE id = ? RETURNING session_epoch`),
    // Contract: one agent row, only while this is still its current session.
    sessionClose: p("UPDATE agents SET session_replica = NULL WHERE id = ? AND session_epoch = ?"),
    agentState: p(`UPDATE agents SET status = COALESCE(?, status), metrics = COALESCE(?, metrics),
      health = COALESCE(?, health), last_seen_at = ? WHERE id = ?`),
    agentProfile: p("UPDATE agents SET capabilities = ?, capacity = ?, tier = ? WHERE id = ?"),
    agentRevoke: p("UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"),
    cmdInsert: p(`INSERT INTO agent_commands (id, agent_id, type, params, jws, status, issued_at, expires_at)
      VALUES (@id, @agentId, @type, @params, @jws, @status, @issuedAt, @expiresAt)`),
    cmdGet: p("SELECT * FROM agent_commands WHERE id = ?"),
    cmdList: p("SELECT * FROM agent_commands WHERE agent_id = ? ORDER BY issued_at DESC LIMIT ?"),
    cmdSettle: p(`UPDATE agent_commands SET status = ?, output = ?, error = ?, completed_at = ?
      WHERE id = ? AND agent_id = ? AND status IN ('pending', 'sent')`),
    metaGet: p("SELECT value FROM meta WHERE key = ?"),
    metaSet: p("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
  };
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));

  return {
    barrier: () => gc.barrier(),
    storageIssue: () => gc.storageIssue,
    close: async () => {
      gc.flush();
      db.close();
    },
    insertJobs: (j) => jobs.insertJobs(j),
    getJob: (id) => jobs.getJob(id),
    getAttempts: (ids) => jobs.getAttempts(ids),
    listJobs: (f) => jobs.listJobs(f),
    jobCounts: (owner) => jobs.jobCounts(owner),
    oldestQueuedAt: (owner, caps) => jobs.oldestQueuedAt(owner, caps),
    compactJobCounts: () => Promise.resolve(), // the triggers update the counters in place
    claimJobs: (c, slots, now, lease) => jobs.claimJobs(c, slots, now, lease),
    markStarted: (id, a, e, now) => jobs.markStarted(id, a, e, now),
    setProgress: (id, a, e, pr, now) => jobs.setProgress(id, a, e, pr, now),
    appendLogs: (id, a, e, lines, now) => jobs.appendLogs(id, a, e, lines, now),
    completeAttempt: (id, a, e, out, files, now) => jobs.completeAttempt(id, a, e, out, files, now),
    endAttempt: (id, a, e, end, now) => jobs.endAttempt(id, a, e, end, now),
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
    deleteFinishedBefore: (cutoff, limit) => retention.deleteFinishedBefore(cutoff, limit),

    fileUsage: (owner) => files.fileUsage(owner),
    addOwnedFiles: (owner, f, quota, now) => files.addOwnedFiles(owner, f, quota, now),
    claimOwnedFiles: (owner, hashes, now) => files.claimOwnedFiles(owner, hashes, now),
    getOwnedFile: (owner, hash) => files.getOwnedFile(owner, hash),
    addJobOutput: (id, a, e, f, now) => files.addJobOutput(id, a, e, f, now),
    collectBlobs: (before, limit) => files.collectBlobs(before, limit),
    blobRecorded: (hash) => files.blobRecorded(hash),

    insertAgent: (a: AgentRecord) =>
      gc.write(() => {
        s.agentInsert.run({
          ...a,
          capabilities: JSON.stringify(a.capabilities),
          systemInfo: JSON.stringify(a.systemInfo),
        });
      }),
    getAgent: (id) => Promise.resolve(maybe(s.agentGet.get(id) as AgentRow | undefined, agentFromRow)),
    listAgents: () => Promise.resolve((s.agentList.all() as AgentRow[]).map(agentFromRow)),
    updateAgentState: (
      id: string,
      st: {
        status?: AgentStatus | null;
        metrics?: AgentMetrics | null;
        health?: AgentHealth | null;
        lastSeenAt: number;
      },
    ) =>
      gc.write(() => {
        s.agentState.run(st.status ?? null, json(st.metrics), json(st.health), st.lastSeenAt, id);
      }),
    updateAgentProfile: (id, pr) =>
      gc.write(() => {
        s.agentProfile.run(JSON.stringify(pr.capabilities), pr.capacity, pr.tier, id);
      }),
    revokeAgent: (id, now) =>
      gc.write(() => {
        s.agentRevoke.run(now, id);
        return maybe(s.agentGet.get(id) as AgentRow | undefined, agentFromRow);
      }),
    openAgentSession: (id, replica, transport) =>
      gc.write(
        () => (s.sessionOpen.get(replica, transport, id) as { session_epoch: number } | undefined)?.session_epoch,
      ),
    closeAgentSession: (id, epoch) =>
      gc.write(() => {
        s.sessionClose.run(id, epoch);
      }),
    insertCommand: (c: CommandRecord) =>
      gc.write(() => {
        s.cmdInsert.run({ ...c, params: json(c.params) });
      }),
    getCommand: (id) => Promise.resolve(maybe(s.cmdGet.get(id) as CommandRow | undefined, commandFromRow)),
    listCommands: (agentId, limit) =>
      Promise.resolve((s.cmdList.all(agentId, limit) as CommandRow[]).map(commandFromRow)),
    settleCommand: (id, agentId, status, output, error, now) =>
      gc.write(() => {
        s.cmdSettle.run(status, json(output), error, status === "sent" ? null : now, id, agentId);
        return maybe(s.cmdGet.get(id) as CommandRow | undefined, commandFromRow);
      }),
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
    getMeta: (key) => Promise.resolve((s.metaGet.get(key) as { value: string } | undefined)?.value),
    setMeta: (key, value) =>
      gc.write(() => {
        s.metaSet.run(key, value);
      }),
  };
}

function maybe<R, T>(row: R | undefined, map: (r: R) => T): T | undefined {
  return row === undefined ? undefined : map(row);
}
