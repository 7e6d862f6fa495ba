import { createPool } from "../store/postgres/postgres-db.ts";
import { type ClusterBus, LocalClusterBus } from "./cluster-bus.ts";
import { PostgresClusterBus } from "./postgres-cluster-bus.ts";

/** The bus for a store: LISTEN/NOTIFY on PostgreSQL (replicas), in-process on the embedded store. */
export async function openClusterBus(db: string, onError: (err: unknown) => void): Promise<ClusterBus> {
  if (!/^postgres(ql)?:\/\//.test(db)) {
    const bus = new LocalClusterBus();
    bus.onError = onError;
    return bus;
  }
  const schema = new URL(db).searchParams.get("schema") ?? undefined;
  const pool = createPool({ url: db, schema, poolSize: 2 });
  const bus = await PostgresClusterBus.open({ url: db, schema, pool, onError });
  return {
    publish: (m) => bus.publish(m),
    subscribe: (l) => bus.subscribe(l),
    close: async () => {
      await bus.close();
      await pool.end();
    },
  };
}
