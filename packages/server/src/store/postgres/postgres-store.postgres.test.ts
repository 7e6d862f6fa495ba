import { after } from "node:test";
import { credentialStoreConformance } from "../credential-store-conformance.ts";
import { fileStoreConformance } from "../file-store-conformance.ts";
import type { Store } from "../store.ts";
import { storeConformance } from "../store-conformance.ts";
import { storeRaceConformance } from "../store-race-conformance.ts";
import { dropTestSchemas, TEST_PG_URL, testPostgresReachable, testSchema } from "./pg-test-schema.ts";
import { openPostgresStore } from "./postgres-store.ts";

// The one conformance suite, against PostgreSQL: each test in its own schema, dropped at the end.
if (await testPostgresReachable()) {
  const schemaOf = new WeakMap<Store, string>();
  const open = async () => {
    const schema = testSchema();
    const s = await openPostgresStore({ url: TEST_PG_URL, schema, poolSize: 4 });
    schemaOf.set(s, schema);
    return s;
  };
  storeConformance("postgres", open);
  fileStoreConformance("postgres", open);
  credentialStoreConformance("postgres", open);
  // Peers are separate pools on the same schema, as replicas are.
  storeRaceConformance("postgres", open, (s, n) =>
    Promise.all(
      Array.from({ length: n }, () => openPostgresStore({ url: TEST_PG_URL, schema: schemaOf.get(s)!, poolSize: 4 })),
    ),
  );
  after(() => dropTestSchemas());
}
