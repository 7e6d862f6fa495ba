import { Logger, makeWorkerUtils, run, runMigrations, type WorkerUtils } from "graphile-worker";
import type { ProducerDriver, WorkerHandle, WorkerHooks } from "./peer-driver.ts";
import type { PeerPayload, PeerTarget } from "./peer-messages.ts";

type GraphileTarget = Extract<PeerTarget, { system: "graphile" }>;

const TASK = "noop";

// graphile-worker logs a line per completed job by default; that is console cost, not queue cost.
const quiet = new Logger(() => () => {});

/**
 * graphile-worker's batching knobs, as its performance page shows them (localQueue 500, batched
 * completions). Only for the `graphile-batched` system; `graphile` runs the defaults.
 */
const BATCHED_PRESET = { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } };

function shared(t: GraphileTarget) {
  return { connectionString: t.connectionString, schema: t.schema, logger: quiet };
}

/** graphile-worker's producer: `addJob` per job, `addJobs` (one add_jobs call) for many. */
export async function graphileProducer(t: GraphileTarget): Promise<ProducerDriver> {
  const utils = await makeWorkerUtils(shared(t));
  return {
    async addOne(payload) {
      await utils.addJob(TASK, payload);
    },
    async addMany(payloads) {
      await utils.addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
    },
    async close() {
      await utils.release();
    },
  };
}

/**
 * One graphile-worker runner (a pool of `concurrency` workers). `job:complete` fires once the handler
 * is done, but the DELETE may still be in flight (or batched), so the parent confirms the end in the
 * database (GraphileAdmin.pending).
 */
export async function startGraphileWorker(
  t: GraphileTarget,
  concurrency: number,
  hooks: WorkerHooks,
): Promise<WorkerHandle> {
  const runner = await run({
    ...shared(t),
    concurrency,
    noHandleSignals: true,
    taskList: {
      [TASK]: async (payload) => {
        hooks.onStart(payload as PeerPayload);
      },
    },
    ...(t.batched ? { preset: BATCHED_PRESET } : {}),
  });
  runner.events.on("job:complete", () => hooks.onDone());
  return { close: () => runner.stop() };
}

/** Bench-parent side: the per-run schema (migrated before workers start, dropped at the end). */
export class GraphileAdmin {
  readonly #t: GraphileTarget;
  readonly #utils: WorkerUtils;

  private constructor(t: GraphileTarget, utils: WorkerUtils) {
    this.#t = t;
    this.#utils = utils;
  }

  /** Creates the schema by running graphile-worker's migrations once, so workers do not race to. */
  static async create(t: GraphileTarget): Promise<GraphileAdmin> {
    await runMigrations(shared(t));
    return new GraphileAdmin(t, await makeWorkerUtils(shared(t)));
  }

  /** Jobs still in the table: completed jobs are deleted, so 0 means every completion is committed. */
  pending(): Promise<number> {
    return this.#utils.withPgClient(async (c) => {
      const r = await c.query<{ n: number }>(`select count(*)::int as n from "${this.#t.schema}"._private_jobs`);
      return r.rows[0]?.n ?? -1;
    });
  }

  /** What PostgreSQL promises on commit, read from the server. */
  durability(): Promise<string> {
    return this.#utils.withPgClient(async (c) => {
      const r = await c.query<{ v: string; fsync: string; sc: string }>(
        "select current_setting('server_version') as v, current_setting('fsync') as fsync, current_setting('synchronous_commit') as sc",
      );
      const x = r.rows[0]!;
      return `PostgreSQL ${x.v}: fsync ${x.fsync}, synchronous_commit ${x.sc}`;
    });
  }

  /** DROP SCHEMA … CASCADE, then releases the pool. */
  async dropAndClose(): Promise<void> {
    try {
      await this.#utils.withPgClient((c) => c.query(`drop schema if exists "${this.#t.schema}" cascade`));
    } finally {
      await this.#utils.release();
    }
  }
}
