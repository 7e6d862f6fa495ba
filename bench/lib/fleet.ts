import type { ChildProcess } from "node:child_process";
import { type Children, nextMessage } from "./children.ts";
import type { FleetConfig, FleetToParent } from "./fleet-messages.ts";

const FLEET_MAIN = new URL("./fleet-main.ts", import.meta.url).pathname;

export interface FleetReady {
  connected: number;
  failed: number;
  firstError: string | null;
  /** Longest time one process took to register and connect its agents. */
  seconds: number;
}

/** The bench parent's handle on several fleet processes of protocol agents. */
export class Fleet {
  readonly procs: ChildProcess[];
  readonly #children: Children;
  readonly #totals: number[];
  #lastAt = 0;
  #waiter: { n: number; resolve: (lastAt: number) => void } | null = null;

  /** Takes charge of already forked processes that speak FleetToParent (the peers' workers do too). */
  static adopt(children: Children, procs: ChildProcess[]): Fleet {
    return new Fleet(children, procs);
  }

  pids(): number[] {
    return this.procs.map((p) => p.pid!);
  }

  private constructor(children: Children, procs: ChildProcess[]) {
    this.#children = children;
    this.procs = procs;
    this.#totals = procs.map(() => 0);
    procs.forEach((p, i) => {
      p.on("message", (m: FleetToParent) => {
        if (m.type !== "progress") return;
        this.#totals[i] = m.completed;
        this.#lastAt = Math.max(this.#lastAt, m.lastAt);
        this.#check();
      });
    });
  }

  /** Starts `processes` fleet processes sharing `total` agents and waits until all are connected. */
  static async start(
    children: Children,
    cfg: Omit<FleetConfig, "count"> & { total: number; processes: number },
    timeoutMs: number,
  ): Promise<{ fleet: Fleet; ready: FleetReady }> {
    const procs: ChildProcess[] = [];
    const readies: Promise<FleetToParent & { type: "ready" }>[] = [];
    for (let i = 0; i < cfg.processes; i++) {
      const count = Math.floor(cfg.total / cfg.processes) + (i < cfg.total % cfg.processes ? 1 : 0);
      const { total: _t, processes: _p, ...rest } = cfg;
      const p = children.fork(`agents#${i}`, FLEET_MAIN, { ...rest, count } satisfies FleetConfig);
      procs.push(p);
      readies.push(nextMessage(p, (m) => m?.type === "ready", timeoutMs));
    }
    const fleet = new Fleet(children, procs);
    const all = await Promise.all(readies);
    return {
      fleet,
      ready: {
        connected: all.reduce((s, r) => s + r.connected, 0),
        failed: all.reduce((s, r) => s + r.failed, 0),
        firstError: all.find((r) => r.firstError)?.firstError ?? null,
        seconds: Math.max(...all.map((r) => r.seconds)),
      },
    };
  }

  completed(): number {
    return this.#totals.reduce((s, n) => s + n, 0);
  }

  /** Resolves with the wall time of the last acknowledgement once `n` completions in total were acked. */
  waitCompleted(n: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error(`only ${this.completed()} of ${n} completions within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        n,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.#check();
    });
  }

  async collectSamples(): Promise<number[]> {
    const parts = await Promise.all(
      this.procs.map((p) => {
        const answer = nextMessage<{ samples: number[] }>(p, (m) => m?.type === "samples", 30_000);
        p.send({ type: "collect" });
        return answer;
      }),
    );
    return parts.flatMap((x) => x.samples);
  }

  async stats(): Promise<{ nacks: number; firstNack: unknown; closed: number }> {
    const parts = await Promise.all(
      this.procs.map((p) => {
        const answer = nextMessage<any>(p, (m) => m?.type === "stats", 30_000);
        p.send({ type: "stats" });
        return answer;
      }),
    );
    return {
      nacks: parts.reduce((s, x) => s + x.nacks, 0),
      firstNack: parts.find((x) => x.firstNack)?.firstNack ?? null,
      closed: parts.reduce((s, x) => s + x.closed, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.#children.stop(p)));
  }

  #check(): void {
    const w = this.#waiter;
    if (w && this.completed() >= w.n) {
      this.#waiter = null;
      w.resolve(this.#lastAt);
    }
  }
}
