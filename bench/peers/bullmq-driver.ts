import { Queue, Worker } from "bullmq";
import type { ProducerDriver, WorkerHandle, WorkerHooks } from "./peer-driver.ts";
import type { PeerPayload, PeerTarget } from "./peer-messages.ts";

type BullTarget = Extract<PeerTarget, { system: "bullmq" }>;

const JOB_NAME = "noop";

function connection(t: BullTarget) {
  // Workers need maxRetriesPerRequest null (BullMQ refuses blocking connections without it).
  return { host: t.host, port: t.port, maxRetriesPerRequest: null };
}

/** BullMQ's producer: `Queue.add` per job, `Queue.addBulk` for many. BullMQ defaults otherwise. */
export function bullmqProducer(t: BullTarget): ProducerDriver {
  const queue = new Queue<PeerPayload>(t.queue, { connection: connection(t), prefix: t.prefix });
  return {
    async addOne(payload) {
      await queue.add(JOB_NAME, payload);
    },
    async addMany(payloads) {
      await queue.addBulk(payloads.map((data) => ({ name: JOB_NAME, data })));
    },
    close: () => queue.close(),
  };
}

/** One BullMQ Worker; `completed` fires after the job was moved to the completed set in Redis. */
export async function startBullmqWorker(t: BullTarget, concurrency: number, hooks: WorkerHooks): Promise<WorkerHandle> {
  const worker = new Worker<PeerPayload>(
    t.queue,
    async (job) => {
      hooks.onStart(job.data);
    },
    { connection: connection(t), prefix: t.prefix, concurrency },
  );
  worker.on("completed", () => hooks.onDone());
  worker.on("error", (err) => process.stderr.write(`bullmq worker: ${err.message}\n`));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}

/** Bench-parent side: what Redis persists, and removal of every key under this run's prefix. */
export class BullmqAdmin {
  readonly #queue: Queue;
  readonly #t: BullTarget;

  constructor(t: BullTarget) {
    this.#t = t;
    this.#queue = new Queue(t.queue, { connection: connection(t), prefix: t.prefix });
  }

  /** e.g. "Redis 7.0.15: RDB save '', appendonly no": read from the server, so the report says what really ran. */
  async persistence(): Promise<string> {
    // CONFIG GET is not on BullMQ's client interface; the underlying client is ioredis, which has `call`.
    const client = await this.#queue.getBackend().client;
    const raw = client as unknown as { call(...args: string[]): Promise<string[]> };
    const save = await raw.call("CONFIG", "GET", "save");
    const aof = await raw.call("CONFIG", "GET", "appendonly");
    const version = /redis_version:(\S+)/.exec(await client.info())?.[1];
    return `Redis ${version ?? "?"}: RDB save '${save[1] ?? "?"}', appendonly ${aof[1] ?? "?"}`;
  }

  /** Deletes the queue's keys (SCAN + DEL under the unique prefix; never FLUSHDB: this Redis is shared). */
  async cleanup(): Promise<number> {
    const client = await this.#queue.getBackend().client;
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, { MATCH: `${this.#t.prefix}:*`, COUNT: 1000 });
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== "0");
    return deleted;
  }

  close(): Promise<void> {
    return this.#queue.close();
  }
}
