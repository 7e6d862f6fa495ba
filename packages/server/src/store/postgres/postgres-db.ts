import pg from "pg";

const INT8 = 20;
const NUMERIC = 1700;
/** Serialisation failures and deadlocks: the transaction is retried from the start. */
const RETRYABLE = new Set(["40001", "40P01"]);

export interface PostgresOptions {
  /** postgres:// URL. */
  url: string;
  /** Schema to work in (created if missing); default: the URL's search_path (public). */
  schema?: string;
  /** Connections in the pool. @defaultValue 10 */
  poolSize?: number;
}

/**
 * A pool whose clients parse bigint and numeric as numbers (times are epoch milliseconds, well within
 * 2^53) and, when a schema is given, work in it.
 */
export function createPool(o: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize ?? 10,
    application_name: "gantry-server",
    ...(o.schema ? { options: `-c search_path=${o.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8 || oid === NUMERIC
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection (a database restart) must not crash the server: the pool
  // drops it and the next query opens a fresh one.
  pool.on("error", () => {});
  return pool;
}

/** Runs `fn` in one transaction, retried on serialisation failure or deadlock. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    let broken: Error | undefined;
    // A checked-out client whose connection drops between queries emits 'error': the pool listens
    // only while it is idle, and an unhandled 'error' would end the process.
    const onError = (err: Error) => {
      broken = err;
    };
    c.on("error", onError);
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch((e: Error) => {
        broken = e; // the connection is gone: do not hand it out again
      });
      if (attempt < 5 && RETRYABLE.has((err as { code?: string }).code ?? "")) continue;
      throw err;
    } finally {
      c.off("error", onError);
      c.release(broken);
    }
  }
}
