import {
  AGENT_PROTOCOL_VERSION,
  type AgentToServer,
  type AssignedJob,
  backoffDelay,
  type HeldJob,
  type ServerToAgent,
} from "@gantry/protocol";
import type { Logger } from "pino";

import {
  CLOSE_REVOKED,
  CLOSE_TOKEN_INVALID,
  type Connection,
  type ConnectionHandlers,
} from "../connection/connection.ts";
import { HttpError } from "../connection/http-client.ts";
import { openPollConnection } from "../connection/poll-connection.ts";
import { explainNetError } from "../connection/tls-options.ts";
import { openWsConnection } from "../connection/ws-connection.ts";
import { type JobOutcome, JobRunner } from "../runner/job-runner.ts";
import { type AgentState, type ConnectionState, heartbeatStatus } from "./agent-state.ts";
import type { ControlLoopOptions } from "./control-loop-options.ts";
import { EXIT, REENROL_HINT } from "./exit-codes.ts";
import { outcomeMessage } from "./outcome-message.ts";
import { OutgoingBatcher } from "./outgoing-batcher.ts";
import { TokenKeeper } from "./token-keeper.ts";

/**
 * The one action loop. Both transports feed `#onMessages`; the runner feeds `RunnerEvents`. It owns
 * acks, heartbeats, token refresh and reconnects; outgoing messages go through the per-turn
 * `OutgoingBatcher` (one journal write and one frame per event-loop turn).
 */
export class ControlLoop {
  readonly runner: JobRunner;
  readonly #o: ControlLoopOptions;
  readonly #log: Logger;
  state: AgentState = "running";
  connection: ConnectionState = "idle";
  #conn: Connection | null = null;
  #attempt = 0;
  readonly #token: TokenKeeper;
  #heartbeatSecs: number;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  readonly #out: OutgoingBatcher;
  #emptyWaiters: Array<() => void> = [];
  readonly startedAt = Date.now();

  constructor(options: ControlLoopOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#token = new TokenKeeper({
      api: options.api,
      agentId: options.agentId,
      key: options.key,
      token: options.token,
      expiresIn: options.tokenExpiresIn,
      onToken: (token, expiresIn) => {
        this.#conn?.setToken(token);
        this.#o.onToken(token, expiresIn);
      },
      onRefreshDue: () => {
        if (this.connection !== "ready") return; // the next connect re-authenticates over HTTP
        void this.#out.request({ type: "token:refresh", ref: this.#o.outbox.allocRef() }, 30_000).then((ok) => {
          if (!ok) this.#log.warn("token refresh not acknowledged; will re-authenticate on reconnect");
        });
      },
    });
    this.#heartbeatSecs = options.heartbeatIntervalSecs;
    this.#out = new OutgoingBatcher({
      outbox: options.outbox,
      link: () => (this.connection === "ready" ? this.#conn : null),
    });
    this.runner = new JobRunner({
      pool: options.pool,
      executors: options.executors,
      abortGraceMs: options.abortGraceMs,
      events: {
        started: (job) => this.#out.put({ type: "job:started", jobId: job.id, epoch: job.epoch }),
        progress: (job, p) => this.#out.progress(job, p),
        log: (job, stream, line) => this.#out.log(job, stream, line),
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
    if (!(await this.#out.request(msg, 30_000)))
      this.#log.warn({ commandId: r.commandId }, "command result not acknowledged");
  }

  /** Resolves true once the outbox is empty, false on timeout. */
  waitOutboxEmpty(timeoutMs: number): Promise<boolean> {
    this.#out.flush();
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
    return this.#out.request({ type: "deregister", ref: this.#o.outbox.allocRef() }, timeoutMs);
  }

  close(): void {
    this.state = "stopped";
    this.connection = "closed";
    for (const t of [this.#heartbeatTimer, this.#backoffTimer]) if (t) clearTimeout(t);
    this.#token.stop();
    this.#out.flush();
    const conn = this.#conn;
    this.#conn = null;
    conn?.close();
  }

  // ---- connection -------------------------------------------------------------------------

  async #connect(): Promise<void> {
    if (this.connection === "closed") return;
    this.connection = "connecting";
    try {
      await this.#token.ensure();
    } catch (err) {
      if (this.#isClosed()) return;
      if (err instanceof HttpError && err.code === "agent_revoked") return this.#revoked();
      if (err instanceof HttpError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        return this.#o.onFatal(
          EXIT.revoked,
          `The server refused this agent's identity (${err.message}). ${REENROL_HINT}`,
        );
      }
      this.#log.warn({ err: explainNetError(err) }, "re-authentication failed");
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
            token: this.#token.token,
            waitSecs: this.#o.pollWaitSecs,
            freeSlots: () => (this.state === "running" ? this.#o.capacity - this.runner.size : 0),
            handlers,
          })
        : openWsConnection(this.#o.server, this.#token.token, this.#o.tls, handlers, onBad);
    this.#conn = conn;
  }

  #onClose(code: number, reason: string): void {
    this.#conn = null;
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#out.reset();
    if (this.connection === "closed") return;
    if (code === CLOSE_REVOKED) {
      this.#revoked();
      return;
    }
    if (code === CLOSE_TOKEN_INVALID) this.#token.invalidate();
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
          this.#token.set(msg.token, msg.expiresIn);
          break;
        case "error":
          this.#log.warn({ code: msg.error.code }, `server reported: ${msg.error.message}`);
          break;
        case "command":
          void this.#command(msg.jws);
          break;
      }
    }
    this.#out.schedule();
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
    this.#out.resendOutbox();
    this.#conn?.ready();
    this.#token.scheduleRefresh();
    this.#notifyEmpty();
  }

  #assign(job: AssignedJob): void {
    const reject = (reason: string) => this.#out.put({ type: "job:rejected", jobId: job.id, epoch: job.epoch, reason });
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
      this.#out.put({
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
      this.#out.put({ type: "job:cancelled", jobId, epoch });
    }
  }

  #ack(ref: number): void {
    if (this.#out.settle(ref, true)) return;
    this.#o.outbox.ack(ref);
    this.#notifyEmpty();
  }

  #nack(msg: Extract<ServerToAgent, { type: "nack" }>): void {
    if (this.#out.settle(msg.ref, false)) {
      this.#log.warn({ code: msg.error.code, status: msg.status }, `request refused: ${msg.error.message}`);
      return;
    }
    const m = this.#o.outbox.get(msg.ref);
    if (!m) return;
    if (msg.status === 429 || msg.status >= 500) {
      // The server could not commit it now: keep it and send it again shortly.
      setTimeout(() => {
        if (this.connection === "ready" && this.#o.outbox.get(m.ref)) this.#out.send(m);
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
    this.#out.flushJob(job.id);
    const msg = outcomeMessage(job, outcome);
    if (msg) this.#out.put(msg);
    this.#conn?.slotsChanged();
  }

  #heartbeat(): void {
    if (this.connection !== "ready") return;
    const { metrics, health } = this.#o.sample();
    const status = heartbeatStatus(this.state, health, this.runner.size);
    const hb: AgentToServer = { type: "heartbeat", status, running: this.held() };
    if (metrics) hb.metrics = metrics;
    if (health) hb.health = health;
    this.#out.send(hb);
  }

  #notifyEmpty(): void {
    if (this.#o.outbox.size !== 0 || this.#emptyWaiters.length === 0) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }
}
