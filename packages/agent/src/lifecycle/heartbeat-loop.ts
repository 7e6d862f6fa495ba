import type { AgentToServer, HeldJob, ServerToAgent } from "@gantry/protocol";
import type { LeaseWatch } from "./lease-watch.ts";

type Heartbeat = Extract<AgentToServer, { type: "heartbeat" }>;

export interface HeartbeatLoopOptions {
  /** The heartbeat to send now, without its seq. */
  compose(): Omit<Heartbeat, "seq">;
  send(hb: Heartbeat): void;
  leases: LeaseWatch;
}

/** Heartbeats sent and not yet answered; older ones than this are forgotten (the link is that late). */
const MAX_OUTSTANDING = 64;

/**
 * Sends a numbered heartbeat every interval while a link is ready, and matches each `heartbeat:ack`
 * to the heartbeat it answers (by seq; in order for a server that echoes none), so the lease watch
 * learns when the server last renewed each job. Returns the jobs the server says are no longer ours.
 */
export class HeartbeatLoop {
  readonly #o: HeartbeatLoopOptions;
  #seq = 0;
  #sent: Array<{ seq: number; at: number; running: HeldJob[] }> = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatLoopOptions) {
    this.#o = options;
  }

  /** A link was welcomed: beat every `intervalSecs`. */
  start(intervalSecs: number): void {
    this.stop();
    this.#timer = setInterval(() => this.beat(), Math.max(100, intervalSecs * 1000));
  }

  /** The link is gone: stop beating; answers to what was sent on it will not come. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sent = [];
  }

  beat(): void {
    const hb: Heartbeat = { ...this.#o.compose(), seq: this.#seq++ };
    this.#sent.push({ seq: hb.seq!, at: Date.now(), running: hb.running });
    if (this.#sent.length > MAX_OUTSTANDING) this.#sent.shift();
    this.#o.send(hb);
  }

  /** The server committed a heartbeat: confirms the leases it listed; returns the jobs to drop. */
  acked(msg: Extract<ServerToAgent, { type: "heartbeat:ack" }>): HeldJob[] {
    this.#o.leases.acked();
    const i = msg.seq === undefined ? 0 : this.#sent.findIndex((s) => s.seq === msg.seq);
    if (i !== -1 && this.#sent[i]) {
      const sent = this.#sent[i]!;
      this.#sent.splice(0, i + 1);
      const dropped = new Set(msg.drop.map((d) => `${d.jobId}@${d.epoch}`));
      this.#o.leases.confirm(
        sent.running.filter((j) => !dropped.has(`${j.jobId}@${j.epoch}`)),
        sent.at,
      );
    }
    return msg.drop;
  }
}
