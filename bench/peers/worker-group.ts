import type { ChildProcess } from "node:child_process";
import { type Children, nextMessage } from "../lib/children.ts";
import type { FleetToParent } from "../lib/fleet-messages.ts";

/**
 * The parent's handle on the worker processes of one system: lib/fleet-main.ts processes (Gantry's
 * protocol agents) or worker-main.ts processes (BullMQ, graphile-worker); both speak FleetToParent.
 * Lib's Fleet class forks only fleet-main.ts, hence this small twin.
 */
export class WorkerGroup {
  readonly procs: ChildProcess[];
  readonly #children: Children;
  readonly #totals: number[];
  #lastAt = 0;
  #waiter: { n: number; resolve: (lastAt: number) => void } | null = null;

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

  /** Forks one process per config and waits until each reports ready. */
  static async start(children: Children, name: string, file: string, configs: unknown[]): Promise<WorkerGroup> {
    const procs = configs.map((c, i) => children.fork(`${name}#${i}`, file, c));
    const group = new WorkerGroup(children, procs);
    const readies = await Promise.all(
      procs.map((p) => nextMessage<FleetToParent & { type: "ready" }>(p, (m) => m?.type === "ready", 60_000)),
    );
    const bad = readies.find((r) => r.connected === 0);
    if (bad) throw new Error(`${name} worker failed to start: ${bad.firstError}`);
    return group;
  }

  /** Completions so far, over all processes (cumulative for the group's life). */
  completed(): number {
    return this.#totals.reduce((s, n) => s + n, 0);
  }

  /** Resolves with the wall time of the last completion once `n` completions in total were seen. */
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

  /** Latency samples (ms) recorded since the last call, from every process. */
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

  pids(): number[] {
    return this.procs.map((p) => p.pid!);
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
