import { AGENT_PROTOCOL_VERSION, type AgentToServer, type HeldJob, type ServerToAgent } from "@gantry/protocol";
import type { Logger } from "pino";
import { DeadLetters } from "../outbox/dead-letters.ts";
import { createJobFiles } from "../runner/job-files.ts";
import { JobRunner } from "../runner/job-runner.ts";
import { AckPolicy } from "./ack-policy.ts";
import { type AgentState, heartbeatStatus } from "./agent-state.ts";
import { runCommandFrame } from "./command-runner.ts";
import { ConnectionManager, type ConnectionState } from "./connection-manager.ts";
import type { ControlLoopOptions } from "./control-loop-options.ts";
import { HeartbeatLoop } from "./heartbeat-loop.ts";
import { routeInbound } from "./inbound-router.ts";
import { JobIntake } from "./job-intake.ts";
import { LeaseWatch } from "./lease-watch.ts";
import { OutgoingBatcher } from "./outgoing-batcher.ts";
import { TokenKeeper } from "./token-keeper.ts";

/**
 * The one action loop, wiring its parts: the connection state machine (connection-manager.ts), the
 * inbound router, the ack policy (acks, nacks, resends, dead letters), heartbeats with the lease
 * watch, and the runner, whose events become outgoing messages through the per-turn batcher. It
 * decides what jobs this agent takes and stops; it never runs job code.
 */
export class ControlLoop {
  readonly runner: JobRunner;
  readonly deadLetters: DeadLetters;
  readonly #o: ControlLoopOptions;
  readonly #log: Logger;
  state: AgentState = "running";
  readonly #conn: ConnectionManager;
  readonly #token: TokenKeeper;
  readonly #out: OutgoingBatcher;
  readonly #acks: AckPolicy;
  readonly #leases: LeaseWatch;
  readonly #heartbeats: HeartbeatLoop;
  readonly #jobs: JobIntake;
  /** What the last hello listed and when it was sent: the welcome confirms those leases as of then. */
  #hello: { at: number; held: HeldJob[] } = { at: 0, held: [] };
  #emptyWaiters: Array<() => void> = [];
  readonly startedAt = Date.now();

  constructor(options: ControlLoopOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.deadLetters = new DeadLetters({ dir: options.dataDir });
    this.#token = new TokenKeeper({
      api: options.api,
      agentId: options.agentId,
      key: options.key,
      token: options.token,
      expiresIn: options.tokenExpiresIn,
      onToken: (token, expiresIn) => {
        this.#conn.setToken(token);
        this.#o.onToken(token, expiresIn);
      },
      onRefreshDue: () => {
        if (this.connection !== "ready") return; // the next connect re-authenticates over HTTP
        void this.#out.request({ type: "token:refresh", ref: this.#o.outbox.allocRef() }, 30_000).then((ok) => {
          if (!ok) this.#log.warn("token refresh not acknowledged; will re-authenticate on reconnect");
        });
      },
    });
    this.#out = new OutgoingBatcher({
      outbox: options.outbox,
      link: () => this.#conn.link(),
      onUnsendable: (msg, bytes, limit) => this.#acks.unsendable(msg, bytes, limit),
    });
    this.#acks = new AckPolicy({
      outbox: options.outbox,
      deadLetters: this.deadLetters,
      out: this.#out,
      backoff: options.backoff,
      logger: this.#log,
      linkReady: () => this.connection === "ready",
      stale: (jobId, epoch) => this.#jobs.forget(jobId, epoch, "stale"),
      settled: () => this.#notifyEmpty(),
    });
    this.#leases = new LeaseWatch({
      // Running jobs only: a finished result waiting for its ack is still sent (fencing refuses it if stale).
      held: () => this.runner.held(),
      lapsed: (job, silentMs) => {
        this.#log.warn(
          { jobId: job.jobId, epoch: job.epoch, silentMs },
          "lease lapsed without an answer from the server (it will have requeued the job); stopped and forgotten",
        );
        this.#jobs.forget(job.jobId, job.epoch, "stale");
      },
    });
    this.#jobs = new JobIntake({
      runner: () => this.runner,
      out: this.#out,
      outbox: options.outbox,
      leases: this.#leases,
      logger: this.#log,
      state: () => this.state,
      capacity: () => this.#held(),
      changed: () => {
        this.#conn.slotsChanged();
        this.#notifyEmpty();
      },
    });
    this.#heartbeats = new HeartbeatLoop({
      leases: this.#leases,
      send: (hb) => this.#out.send(hb),
      compose: () => {
        const { metrics, health } = this.#o.sample();
        const hb: Omit<Extract<AgentToServer, { type: "heartbeat" }>, "seq"> = {
          type: "heartbeat",
          status: heartbeatStatus(this.state, health, this.runner.size),
          running: this.held(),
        };
        if (metrics) hb.metrics = metrics;
        if (health) hb.health = health;
        return hb;
      },
    });
    this.#conn = new ConnectionManager({
      ...options,
      token: this.#token,
      logger: this.#log,
      freeSlots: () => (this.state === "running" ? this.#held() - this.runner.size : 0),
      hello: () => {
        const held = this.held();
        this.#hello = { at: Date.now(), held };
        return {
          type: "hello",
          protocolVersion: AGENT_PROTOCOL_VERSION,
          running: held,
          capabilities: this.#o.capabilities,
          capacity: this.#held(),
          tier: this.#o.tier,
        };
      },
      onMessages: (msgs) => this.#onMessages(msgs),
      onDown: () => {
        this.#heartbeats.stop();
        this.#out.reset();
      },
      onFatal: options.onFatal,
    });
    this.runner = new JobRunner({
      pool: options.pool,
      executors: options.executors,
      abortGraceMs: options.abortGraceMs,
      executorSlots: () => this.#o.capacity,
      files: createJobFiles(options, () => this.#token.token),
      events: {
        started: (job) => this.#out.put({ type: "job:started", jobId: job.id, epoch: job.epoch }),
        progress: (job, p) => this.#out.progress(job, p),
        tokens: (job, text) => this.#out.tokens(job, text),
        log: (job, stream, line) => this.#out.log(job, stream, line),
        finished: (job, outcome) => {
          this.#jobs.finished(job, outcome);
          if (outcome.kind === "failed") options.onJobError?.(outcome.error);
        },
      },
    });
  }

  /** Jobs this agent takes at once: its executor slots plus the prefetched ones. */
  #held(): number {
    return this.#o.capacity + this.#o.prefetch;
  }

  get connection(): ConnectionState {
    return this.#conn.state;
  }

  start(): void {
    this.#conn.start();
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
    this.#beat();
  }

  /** Take work again after a drain command. */
  resume(): void {
    if (this.state !== "draining") return;
    this.state = "running";
    this.#beat();
    this.#conn.slotsChanged();
  }

  /** A server `update` command: what this agent offers from now on (also sent in every later hello). */
  setProfile(p: { capabilities?: string[]; tier?: number; capacity?: number }): void {
    if (p.capabilities) {
      const changed = p.capabilities.join("\n") !== this.#o.capabilities.join("\n");
      this.#o.capabilities = p.capabilities;
      // The server hears at once (a lost frame is made good by the next hello, which lists them too).
      if (changed && this.connection === "ready")
        this.#out.send({ type: "capabilities", capabilities: p.capabilities });
    }
    if (p.tier !== undefined) this.#o.tier = p.tier;
    if (p.capacity !== undefined) this.#o.capacity = p.capacity;
    this.#conn.slotsChanged();
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
    this.#heartbeats.stop();
    this.#leases.stop();
    this.#acks.close();
    this.#token.stop();
    this.#out.flush();
    this.#conn.close();
  }

  // ---- inbound ----------------------------------------------------------------------------

  #onMessages(msgs: ServerToAgent[]): void {
    routeInbound(msgs, {
      welcome: (m) => this.#welcome(m),
      heartbeatAck: (m) => {
        for (const d of this.#heartbeats.acked(m)) this.#jobs.forget(d.jobId, d.epoch, "dropped");
      },
      assign: (job) => this.#jobs.assign(job),
      cancel: (jobId, epoch) => this.#jobs.cancel(jobId, epoch),
      ack: (ref) => this.#acks.ack(ref),
      nack: (m) => this.#acks.nack(m),
      token: (token, expiresIn) => this.#token.set(token, expiresIn),
      command: (jws) =>
        void runCommandFrame(jws, {
          onCommand: this.#o.onCommand,
          out: this.#out,
          outbox: this.#o.outbox,
          logger: this.#log,
        }),
      error: (e) => this.#log.warn({ code: e.code }, `server reported: ${e.message}`),
    });
    this.#out.schedule();
  }

  #welcome(msg: Extract<ServerToAgent, { type: "welcome" }>): void {
    for (const d of msg.drop) this.#jobs.forget(d.jobId, d.epoch, "dropped");
    const dropped = new Set(msg.drop.map((d) => d.jobId));
    this.#leases.welcomed(
      msg.leaseSecs,
      this.#hello.held.filter((h) => !dropped.has(h.jobId)),
      this.#hello.at,
    );
    this.#conn.welcomed();
    this.#heartbeats.start(msg.heartbeatIntervalSecs);
    this.#log.info({ transport: this.#conn.kind, pending: this.#o.outbox.size }, "connected");
    // Everything not yet acknowledged goes again, oldest first (the server dedupes).
    this.#out.resendOutbox();
    this.#token.scheduleRefresh();
    this.#notifyEmpty();
  }

  // ---- outbound ---------------------------------------------------------------------------

  #beat(): void {
    if (this.connection === "ready") this.#heartbeats.beat();
  }

  #notifyEmpty(): void {
    if (this.#o.outbox.size !== 0 || this.#emptyWaiters.length === 0) return;
    const waiters = this.#emptyWaiters;
    this.#emptyWaiters = [];
    for (const w of waiters) w();
  }
}
