import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { PeersOptions } from "../lib/bench-options.ts";
import { type Children, nextMessage } from "../lib/children.ts";
import { startServerChild } from "../lib/server-child.ts";
import { wallNow } from "../lib/stats.ts";
import { type PeerWorkers, startGantryAgents } from "./gantry-agents.ts";
import type { FromProducer, PeerSystem, PeerTarget, PeerWorkerConfig, ToProducer } from "./peer-messages.ts";
import { startWorkerGroup } from "./worker-group.ts";

const WORKER_MAIN = new URL("./worker-main.ts", import.meta.url).pathname;
const PRODUCER_MAIN = new URL("./producer-main.ts", import.meta.url).pathname;

/** One system ready to measure: its queue (fresh server, Redis prefix or schema), 4 workers, a producer. */
export interface PeerEnv {
  system: PeerSystem;
  workers: PeerWorkers;
  producer: ChildProcess;
  /** What the backend promises on commit, as read from it. */
  durability: string;
  /** The broker/server processes whose CPU is counted (Gantry server, redis-server, every postgres process). */
  backendPids(): number[];
  /** Resolves with the wall time at which `n` completions (cumulative) were recorded by the system. */
  waitDone(n: number, timeoutMs: number): Promise<number>;
  command<T extends FromProducer>(m: ToProducer, timeoutMs: number): Promise<T>;
  close(): Promise<void>;
}

const open = new Set<PeerEnv>();
const starting = new Set<Promise<unknown>>();
let stopping = false;

/**
 * For the bench's signal handler: no new environment starts, those starting finish (or fail and undo
 * themselves), then every open one removes its queue/schema and stops its processes.
 */
export async function closeOpenPeerEnvs(): Promise<void> {
  stopping = true;
  await Promise.allSettled([...starting]);
  await Promise.allSettled([...open].map((e) => e.close()));
}

/** Processes named `comm` (read from /proc, so the figure includes broker/database CPU). */
function pidsByComm(comm: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const runId = () => `${process.pid}_${Date.now().toString(36)}`;

export function startPeerEnv(system: PeerSystem, children: Children, o: PeersOptions): Promise<PeerEnv> {
  if (stopping) return Promise.reject(new Error("the bench is stopping"));
  const p = start(system, children, o);
  starting.add(p);
  return p.finally(() => starting.delete(p));
}

async function start(system: PeerSystem, children: Children, o: PeersOptions): Promise<PeerEnv> {
  // Undo steps, run in reverse on close or if a later step fails.
  const undo: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const f of undo.reverse().splice(0)) await f().catch((e: Error) => process.stderr.write(`  ${e.message}\n`));
  };
  try {
    let target: PeerTarget;
    let durability: string;
    let backendPids: () => number[];
    let confirm: (() => Promise<number>) | null = null;
    let workerConfigs: unknown[] = [];
    let gantryWorkers: (() => Promise<PeerWorkers>) | null = null;
    if (system === "gantry") {
      const server = await startServerChild(children);
      undo.push(() => server.stop());
      // debug.echo: the agent's built-in no-op executor (the output is the payload).
      target = { system, ...server.bootstrap, url: server.url, capability: "debug.echo" };
      durability = "SQLite WAL, fdatasync before ack";
      backendPids = () => [server.pid];
      gantryWorkers = () =>
        startGantryAgents(children, {
          url: server.url,
          agentKey: server.bootstrap.agentKey,
          clientKey: server.bootstrap.clientKey,
          capability: "debug.echo",
          workers: o.workers,
          concurrency: o.concurrency,
        });
    } else if (system === "bullmq") {
      const u = new URL(o.redisUrl);
      target = {
        system,
        host: u.hostname,
        port: Number(u.port || 6379),
        prefix: `gantry-bench-${runId()}`,
        queue: "noop",
      };
      const { BullmqAdmin } = await import("./bullmq-driver.ts");
      const admin = new BullmqAdmin(target);
      undo.push(
        () => admin.close(),
        () => admin.cleanup(),
      );
      durability = await admin.persistence();
      backendPids = () => pidsByComm("redis-server");
      workerConfigs = Array.from(
        { length: o.workers },
        () => ({ target, concurrency: o.concurrency }) satisfies PeerWorkerConfig,
      );
    } else {
      target = {
        system: "graphile",
        connectionString: o.pgUrl,
        schema: `gantry_bench_${runId()}`,
        batched: system === "graphile-batched",
      };
      const { GraphileAdmin } = await import("./graphile-driver.ts");
      const admin = await GraphileAdmin.create(target);
      undo.push(() => admin.dropAndClose());
      durability = await admin.durability();
      backendPids = () => pidsByComm("postgres");
      confirm = () => admin.pending();
      workerConfigs = Array.from(
        { length: o.workers },
        () => ({ target, concurrency: o.concurrency }) satisfies PeerWorkerConfig,
      );
    }
    const workers = gantryWorkers
      ? await gantryWorkers()
      : await startWorkerGroup(children, `${system}-worker`, WORKER_MAIN, workerConfigs);
    undo.push(() => workers.stop());
    const producer = children.fork(`${system}-producer`, PRODUCER_MAIN, target);
    undo.push(() => children.stop(producer));
    await nextMessage(producer, (m) => m?.type === "ready", 60_000);

    const env: PeerEnv = {
      system,
      workers,
      producer,
      durability,
      backendPids,
      async waitDone(n, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        const last = await workers.waitCompleted(n, timeoutMs);
        if (!confirm) return last;
        // (the end is then when the table is seen empty: at most one 5 ms poll late)
        // graphile-worker deletes a job when its completion commits: poll until the table is empty.
        while ((await confirm()) > 0) {
          if (Date.now() > deadline) throw new Error("graphile-worker jobs still in the table at the deadline");
          await new Promise((r) => setTimeout(r, 5));
        }
        return wallNow();
      },
      command<T extends FromProducer>(m: ToProducer, timeoutMs: number) {
        const answer = nextMessage<T>(producer, (x) => x?.type !== "ready", timeoutMs);
        producer.send(m);
        return answer;
      },
      async close() {
        open.delete(env);
        await closeAll();
      },
    };
    open.add(env);
    return env;
  } catch (err) {
    await closeAll();
    throw err;
  }
}
