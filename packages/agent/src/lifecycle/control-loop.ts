import {
  AGENT_PROTOCOL_VERSION,
  type AgentHealth,
  type AgentMetrics,
  type AgentToServer,
  type AssignedJob,
  type HeldJob,
  type JobProgress,
  type ServerToAgent,
} from "@gantry/protocol";
import type { Logger } from "pino";
import type { AgentApi } from "../connection/agent-api.ts";
import { type BackoffOptions, backoffDelay } from "../connection/backoff.ts";
import {
  CLOSE_REVOKED,
  CLOSE_TOKEN_INVALID,
  type Connection,
  type ConnectionHandlers,
} from "../connection/connection.ts";
import { type HttpClient, HttpError } from "../connection/http-client.ts";
import { openPollConnection } from "../connection/poll-connection.ts";
import type { TlsConnectOptions } from "../connection/tls-options.ts";
import { openWsConnection } from "../connection/ws-connection.ts";
import type { NewJobMessage, Outbox } from "../outbox/outbox.ts";
import { type JobOutcome, JobRunner } from "../runner/job-runner.ts";
import type { WorkerPool } from "../runner/worker-pool.ts";
import type { AgentState, ConnectionState } from "./agent-state.ts";

/** Exit codes the agent's `done` promise resolves with. */
/** `restart`: a server command asked for a restart; the supervisor (`gantry agent`, systemd) starts again. */
export const EXIT = { ok: 0, error: 1, usage: 2, revoked: 3, restart: 75 } as const;

export const REENROL_HINT =
  "To enrol again: delete the agent config file and run `gantry agent --server URL --key <enrolment key>`.";

export interface ControlLoopOptions {
  server: string;
  transport: "ws" | "poll";
  capacity: number;
  /** Sent in every hello so the server knows what this agent offers now. */
  capabilities: string[];
  tier: number;
  pollWaitSecs: number;
  backoff: BackoffOptions;
  heartbeatIntervalSecs: number;
  http: HttpClient;
  api: AgentApi;
  tls: TlsConnectOptions;
  agentId: string;
  key: string;
  token: string;
  /** Seconds the token had left when obtained. */
  tokenExpiresIn: number;
  /** Persists a new token (seed config fields jwtToken/tokenExpiresIn). */
  onToken(token: string, expiresIn: number): void;
  pool: WorkerPool;
  executors: ReadonlySet<string>;
  abortGraceMs: number;
  outbox: Outbox;
  logger: Logger;
  /** The latest heartbeat metrics and health (sampled elsewhere, never awaited here). */
  sample(): { metrics?: AgentMetrics; health?: AgentHealth };
  /** The agent cannot go on (revoked identity); the caller stops with this exit code. */
  onFatal(code: number, message: string): void;
  /** Verifies and runs a signed server command; resolves with what to report. */
  onCommand?(jws: string): Promise<CommandReport>;
}

export interface CommandReport {
  commandId: string;
  status: "completed" | "failed" | "refused";
  output?: unknown;
  error?: string;
}

const MAX_FRAME = 1000;

/**
 * The one action loop. Both transports feed `#onMessages`; the runner feeds `RunnerEvents`. It owns
 * acks, heartbeats, token refresh, reconnects and the per-turn batching of outgoing messages: every
 * message produced in one event-loop turn is journaled with one write and sent as one frame.
 */
export class ControlLoop {
  readonly runner: JobRunner;
  readonly #o: ControlLoopOptions;
  readonly #log: Logger;
  state: AgentState = "running";
  connection: ConnectionState = "idle";
  #conn: Connection | null = null;
  #attempt = 0;
  #forceAuth = false;
  #token: string;
  #tokenExpiresAt: number;
  #tokenLifetimeMs: number;
  #heartbeatSecs: number;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #toSend: AgentToServer[] = [];
  #scheduled = false;
  #progress = new Map<string, { job: AssignedJob; p: JobProgress }>();
  #logs = new Map<string, { job: AssignedJob; lines: { stream: "stdout" | "stderr"; line: string }[] }>();
  #pendingAcks = new Map<number, (ok: boolean) => void>();
  #emptyWaiters: Array<() => void> = [];
  readonly startedAt = Date.now();

  constructor(options: ControlLoopOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#token = options.token;
    this.#tokenLifetimeMs = options.tokenExpiresIn * 1000;
    this.#tokenExpiresAt = Date.now() + this.#tokenLifetimeMs;
    this.#heartbeatSecs = options.heartbeatIntervalSecs;
    this.runner = new JobRunner({
      pool: options.pool,
      executors: options.executors,
      abortGraceMs: options.abortGraceMs,
      events: {
        started: (job) => this.#put({ type: "job:started", jobId: job.id, epoch: job.epoch }),
        progress: (job, p) => {
          this.#progress.set(job.id, { job, p });
          this.#schedule();
        },
        log: (job, stream, line) => {
          let entry = this.#logs.get(job.id);
          if (!entry) {
            entry = { job, lines: [] };
            this.#logs.set(job.id, entry);
          }
          entry.lines.push({ stream, line: line.slice(0, 65_536) });
          this.#schedule();
        },
        finished: (job, outcome) => this.#finished(job, outcome),
      },
    });
  }

  start(): void {
    void this.#connect();
  }

  /** Jobs the agent answers for: running ones and those with unacknowledged messages. */
  held(): HeldJob[] {
    const map = new Map<string, number>();
    for (const h of this.#o.outbox.heldJobs()) map.set(h.jobId, h.epoch);
    for (const h of this.runner.held()) map.set(h.jobId, h.epoch);
    return [...map].map(([jobId, epoch]) => ({ jobId, epoch }));
  }

  /** Stop taking work; tell the server at once so it stops pushing. */
  drain(): void {
    if (this.state !== "running") return;
    this.state = "draining";
    this.#heartbeat();
  }

  /** Take work again after a drain command. */
  resume(): void {
    if (this.state !== "draining") return;
    this.state = "running";
    this.#heartbeat();
    this.#conn?.slotsChanged();
  }

  /** A server `update` command: what this agent offers from now on (also sent in every later hello). */
  setProfile(p: { capabilities?: string[]; tier?: number; capacity?: number }): void {
    if (p.capabilities) this.#o.capabilities = p.capabilities;
    if (p.tier !== undefined) this.#o.tier = p.tier;
    if (p.capacity !== undefined) this.#o.capacity = p.capacity;
    this.#conn?.slotsChanged();
  }

  async #command(jws: string): Promise<void> {
    if (!this.#o.onCommand) return;
    const r = await this.#o.onCommand(jws);
    if (r.status === "refused") this.#log.warn({ commandId: r.commandId, reason: r.error }, "command refused");
    else this.#log.info({ commandId: r.commandId, status: r.status }, "command done");
    const msg: AgentToServer = {
      type: "command:result",
      ref: this.#o.outbox.allocRef(),
      commandId: r.commandId,
      status: r.status,
    };
    if (r.output !== undefined) msg.output = r.output;
    if (r.error !== undefined) msg.error = r.error.slice(0, 10_000);
    if (!(await this.#request(msg, 30_000)))
      this.#log.warn({ commandId: r.commandId }, "command result not acknowledged");
  }

  /** Resolves true once the outbox is empty, false on timeout. */
  waitOutboxEmpty(timeoutMs: number): Promise<boolean> {
    this.#flush();
    if (this.#o.outbox.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#emptyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Tells the server the agent is leaving (shows offline at once). Resolves false if not acknowledged. */
  deregister(timeoutMs: number): Promise<boolean> {
    if (this.connection !== "ready") return Promise.resolve(false);
    return this.#request({ type: "deregister", ref: this.#o.outbox.allocRef() }, timeoutMs);
  }

  close(): void {
    this.state = "stopped";
    this.connection = "closed";
    for (const t of [this.#heartbeatTimer, this.#refreshTimer, this.#backoffTimer]) if (t) clearTimeout(t);
    this.#flush();
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
  }

  // ---- connection -------------------------------------------------------------------------

  async #connect(): Promise<void> {
    if (this.connection === "closed") return;
    this.connection = "connecting";
    try {
      await this.#ensureToken();
    } catch (err) {
      if (this.#isClosed()) return;
      if (err instanceof HttpError && err.code === "agent_revoked") return this.#revoked();
      if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        return this.#o.onFatal(
          EXIT.revoked,
          `The server refused this agent's identity (${err.message}). ${REENROL_HINT}`,
        );
      }
      this.#log.warn({ err: (err as Error).message }, "re-authentication failed");
      return this.#scheduleReconnect();
    }
    if (this.#isClosed()) return;
    let conn: Connection | null = null;
    const handlers: ConnectionHandlers = {
      onOpen: () => {
        if (this.#conn !== conn) return;
        this.connection = "handshake";
        conn!.send([
          {
            type: "hello",
            protocolVersion: AGENT_PROTOCOL_VERSION,
            running: this.held(),
            capabilities: this.#o.capabilities,
            capacity: this.#o.capacity,
            tier: this.#o.tier,
          },
        ]);
      },
      onMessages: (msgs) => {
        if (this.#conn === conn) this.#onMessages(msgs);
      },
      onClose: (code, reason) => {
        if (this.#conn === conn) this.#onClose(code, reason);
      },
    };
    const onBad = (why: string) => this.#log.warn({ why }, "bad frame from server");
    conn =
      this.#o.transport === "poll"
        ? openPollConnection({
            http: this.#o.http,
            token: this.#token,
            waitSecs: this.#o.pollWaitSecs,
            freeSlots: () => (this.state === "running" ? this.#o.capacity - this.runner.size : 0),
            handlers,
          })
        : openWsConnection(this.#o.server, this.#token, this.#o.tls, handlers, onBad);
    this.#conn = conn;
  }

  async #ensureToken(): Promise<void> {
    const left = this.#tokenExpiresAt - Date.now();
    if (!this.#forceAuth && left > Math.max(30_000, this.#tokenLifetimeMs * 0.2)) return;
    const res = await this.#o.api.auth(this.#o.agentId, this.#o.key);
    this.#forceAuth = false;
    this.#setToken(res.token, res.expiresIn);
  }

  #setToken(token: string, expiresIn: number): void {
    this.#token = token;
    this.#tokenLifetimeMs = expiresIn * 1000;
    this.#tokenExpiresAt = Date.now() + this.#tokenLifetimeMs;
    this.#conn?.setToken(token);
    this.#o.onToken(token, expiresIn);
    this.#scheduleRefresh();
  }

  /** Re-auth over the live connection at ~80% of the token's lifetime. */
  #scheduleRefresh(): void {
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    const delay = Math.max(1000, this.#tokenExpiresAt - Date.now() - this.#tokenLifetimeMs * 0.2);
    this.#refreshTimer = setTimeout(
      () => {
        if (this.connection !== "ready") return; // the next connect re-authenticates over HTTP
        void this.#request({ type: "token:refresh", ref: this.#o.outbox.allocRef() }, 30_000).then((ok) => {
          if (!ok) this.#log.warn("token refresh not acknowledged; will re-authenticate on reconnect");
        });
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    this.#refreshTimer.unref();
  }

  #onClose(code: number, reason: string): void {
    this.#conn = null;
    this.#toSend = [];
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    for (const done of this.#pendingAcks.values()) done(false);
    this.#pendingAcks.clear();
    if (this.connection === "closed") return;
    if (code === CLOSE_REVOKED) {
      this.#revoked();
      return;
    }
    if (code === CLOSE_TOKEN_INVALID) this.#forceAuth = true;
    this.#log.warn({ code, reason }, "connection closed");
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.connection === "closed") return;
    this.connection = "backoff";
    const delay = backoffDelay(this.#attempt++, this.#o.backoff);
    this.#log.info({ delayMs: delay, attempt: this.#attempt }, "reconnecting");
    this.#backoffTimer = setTimeout(() => void this.#connect(), delay);
  }

  /** Re-read after awaits (close() may have run meanwhile). */
  #isClosed(): boolean {
    return this.connection === "closed";
  }

  #revoked(): void {
    this.#o.onFatal(EXIT.revoked, `This agent (${this.#o.agentId}) was revoked by the server. ${REENROL_HINT}`);
  }

  // ---- inbound ----------------------------------------------------------------------------

  #onMessages(msgs: ServerToAgent[]): void {
    for (const msg of msgs) {
      switch (msg.type) {
        case "welcome":
          this.#welcome(msg);
          break;
        case "job:assign":
          this.#assign(msg.job);
          break;
        case "job:cancel":
          this.#cancel(msg.jobId, msg.epoch);
          break;
        case "ack":
          this.#ack(msg.ref);
          break;
        case "nack":
          this.#nack(msg);
          break;
        case "token":
          this.#setToken(msg.token, msg.expiresIn);
          break;
        case "error":
          this.#log.warn({ code: msg.error.code }, `server reported: ${msg.error.message}`);
          break;
        case "command":
          void this.#command(msg.jws);
          break;
      }
    }
    this.#schedule();
  }

  #welcome(msg: Extract<ServerToAgent, { type: "welcome" }>): void {
    for (const d of msg.drop) {
      if (this.runner.epochOf(d.jobId) === d.epoch) this.runner.abort(d.jobId, "dropped");
      const n = this.#o.outbox.dropJob(d.jobId, d.epoch);
      this.#log.info({ jobId: d.jobId, epoch: d.epoch, messages: n }, "server dropped job; aborted and forgotten");
    }
    this.connection = "ready";
    this.#attempt = 0;
    this.#heartbeatSecs = msg.heartbeatIntervalSecs;
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), Math.max(100, this.#heartbeatSecs * 1000));
    this.#log.info({ transport: this.#conn?.kind, pending: this.#o.outbox.size }, "connected");
    // Everything not yet acknowledged goes again, oldest first (the server dedupes).
    this.#toSend = [...this.#o.outbox.entries()];
    this.#conn?.ready();
    this.#scheduleRefresh();
    this.#notifyEmpty();
  }

  #assign(job: AssignedJob): void {
    const reject = (reason: string) => this.#put({ type: "job:rejected", jobId: job.id, epoch: job.epoch, reason });
    if (this.runner.has(job.id)) {
      if (this.runner.epochOf(job.id) !== job.epoch) reject("still running a previous attempt of this job");
      return; // duplicate push of a job already running
    }
    if (this.state !== "running") {
      reject(`agent is ${this.state}`);
      return;
    }
    if (this.runner.size >= this.#o.capacity) {
      reject("no free slot");
      return;
    }
    if (!this.runner.canRun(job)) {
      this.#put({
        type: "job:failed",
        jobId: job.id,
        epoch: job.epoch,
        error: { category: "fatal", message: `this agent has no executor for ${job.capability}` },
      });
      return;
    }
    this.runner.start(job);
  }

  #cancel(jobId: string, epoch: number): void {
    if (this.runner.epochOf(jobId) === epoch) {
      this.runner.abort(jobId, "cancel");
    } else if (!this.runner.has(jobId) && !this.#o.outbox.hasTerminal(jobId)) {
      // Not running here (finished and acked, or unknown after a restart): confirm so the server can settle.
      this.#put({ type: "job:cancelled", jobId, epoch });
    }
  }

  #ack(ref: number): void {
    const special = this.#pendingAcks.get(ref);
    if (special) {
      this.#pendingAcks.delete(ref);
      special(true);
      return;
    }
    this.#o.outbox.ack(ref);
    this.#notifyEmpty();
  }

  #nack(msg: Extract<ServerToAgent, { type: "nack" }>): void {
    const special = this.#pendingAcks.get(msg.ref);
    if (special) {
      this.#pendingAcks.delete(msg.ref);
      this.#log.warn({ code: msg.error.code, status: msg.status }, `request refused: ${msg.error.message}`);
      special(false);
      return;
    }
    const m = this.#o.outbox.get(msg.ref);
    if (!m) return;
    if (msg.status === 429 || msg.status >= 500) {
      // The server could not commit it now: keep it and send it again shortly.
      setTimeout(() => {
        if (this.connection === "ready" && this.#o.outbox.get(m.ref)) {
          this.#toSend.push(m);
          this.#schedule();
        }
      }, 1000).unref();
      return;
    }
    this.#o.outbox.ack(msg.ref);
    if (msg.status === 409) {
      const dropped = this.#o.outbox.dropJob(m.jobId, m.epoch);
      const aborted = this.runner.epochOf(m.jobId) === m.epoch && this.runner.abort(m.jobId, "stale");
      this.#log.warn(
        { jobId: m.jobId, epoch: m.epoch, type: m.type, code: msg.error.code, droppedMessages: dropped + 1, aborted },
        "result refused: stale epoch (the job is no longer this agent's); dropped",
      );
    } else {
      this.#log.error({ jobId: m.jobId, type: m.type, status: msg.status, code: msg.error.code }, msg.error.message);
    }
    this.#notifyEmpty();
  }

  // ---- outbound ---------------------------------------------------------------------------

  #finished(job: AssignedJob, outcome: JobOutcome): void {
    this.#flushJobBuffers(job.id);
    const base = { jobId: job.id, epoch: job.epoch };
    switch (outcome.kind) {
      case "completed":
        this.#put({ type: "job:completed", ...base, output: outcome.output });
        break;
      case "failed":
        this.#put({ type: "job:failed", ...base, error: outcome.error });
        break;
      case "aborted":
        if (outcome.reason === "cancel") this.#put({ type: "job:cancelled", ...base });
        else if (outcome.reason === "timeout") {
          const error = { category: "timeout" as const, message: `runtime limit of ${job.runtimeSecs}s exceeded` };
          this.#put({ type: "job:failed", ...base, error });
        } else if (outcome.reason === "shutdown") {
          const error = { category: "transient" as const, message: "the agent stopped before the job finished" };
          this.#put({ type: "job:failed", ...base, error });
        }
        // stale / dropped: the job is no longer ours; say nothing.
        break;
    }
    this.#conn?.slotsChanged();
  }

  #flushJobBuffers(jobId: string): void {
    const logs = this.#logs.get(jobId);
    if (logs) {
      this.#logs.delete(jobId);
      for (let i = 0; i < logs.lines.length; i += 1000) {
        const lines = logs.lines.slice(i, i + 1000);
        this.#put({ type: "job:log", jobId, epoch: logs.job.epoch, lines });
      }
    }
    const p = this.#progress.get(jobId);
    if (p) {
      this.#progress.delete(jobId);
      this.#put({ type: "job:progress", jobId, epoch: p.job.epoch, progress: p.p });
    }
  }

  #put(msg: NewJobMessage): void {
    const full = this.#o.outbox.put(msg);
    if (this.connection === "ready") this.#toSend.push(full);
    this.#schedule();
  }

  #request(
    msg: Extract<AgentToServer, { type: "token:refresh" | "deregister" | "command:result" }>,
    timeoutMs: number,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#pendingAcks.delete(msg.ref);
        resolve(false);
      }, timeoutMs);
      this.#pendingAcks.set(msg.ref, (ok) => {
        clearTimeout(t);
        resolve(ok);
      });
      this.#toSend.push(msg);
      this.#schedule();
    });
  }

  #heartbeat(): void {
    if (this.connection !== "ready") return;
    const { metrics, health } = this.#o.sample();
    const status =
      this.state !== "running"
        ? "draining"
        : health && !health.healthy
          ? "error"
          : this.runner.size > 0
            ? "busy"
            : "idle";
    const hb: AgentToServer = { type: "heartbeat", status, running: this.held() };
    if (metrics) hb.metrics = metrics;
    if (health) hb.health = health;
    this.#toSend.push(hb);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  /** One turn's output: buffered progress/logs → outbox, one journal write, one frame. */
  #flush(): void {
    for (const id of [...this.#progress.keys(), ...this.#logs.keys()]) this.#flushJobBuffers(id);
    this.#scheduled = false;
    this.#o.outbox.commit();
    if (this.#toSend.length === 0) return;
    const conn = this.#conn;
    const batch = this.#toSend;
    this.#toSend = [];
    if (!conn || this.connection !== "ready") return; // job messages stay in the outbox for the next welcome
    for (let i = 0; i < batch.length; i += MAX_FRAME) conn.send(batch.slice(i, i + MAX_FRAME));
  }

  #notifyEmpty(): void {
    if (this.#o.outbox.size !== 0 || this.#emptyWaiters.length === 0) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }
}
