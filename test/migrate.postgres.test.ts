import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { startServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { deployment, postgresReachable } from "./helpers/replicas.ts";
import { FAST } from "./helpers/test-server.ts";

const reachable = await postgresReachable();
const d = deployment();
after(() => (reachable ? d.drop() : undefined));
const CLI = new URL("../packages/cli/src/main.ts", import.meta.url).pathname;

test("gantry migrate moves an embedded deployment to PostgreSQL: jobs, results, credentials, files", {
  skip: !reachable,
  timeout: 60_000,
}, async () => {
  // An embedded deployment with a finished job, a queued one, and a file.
  const embedded = await startServer({ ...FAST, port: 0, dataDir: d.dataDir });
  const api = new Api(embedded.url, embedded.bootstrap.clientKey);
  const agent = await RawAgent.enrol(embedded.url, embedded.bootstrap.agentKey, { capabilities: ["mig.cap"] });
  await agent.connect();
  const done = await api.submit({ capability: "mig.cap", payload: { n: 1 } });
  const job = await agent.nextJob();
  await agent.request({ type: "job:completed", jobId: job.id, epoch: job.epoch, output: { answer: 42 } });
  await agent.close();
  const queued = await api.submit({ capability: "mig.later", payload: { n: 2 } });
  const up = await fetch(`${embedded.url}/v1/files?name=kept.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${embedded.bootstrap.clientKey}`, "content-type": "application/octet-stream" },
    body: "kept across the move",
  });
  const { hash } = (await up.json()) as { hash: string };
  await embedded.close();

  const out = await promisify(execFile)(process.execPath, [
    CLI,
    "migrate",
    "--from",
    `sqlite:${d.dataDir}`,
    "--to",
    d.db,
  ]);
  assert.match(out.stdout, /jobs\s+2/);

  // The same data dir (keys, bootstrap) on PostgreSQL: everything is there, and keys still work.
  const server = await startServer({ ...FAST, port: 0, dataDir: d.dataDir, db: d.db, replicaId: "m0" });
  try {
    const api2 = new Api(server.url, embedded.bootstrap.clientKey);
    const got = await api2.get(done.id);
    assert.equal(got.status, "completed");
    assert.deepEqual(got.output, { answer: 42 });
    assert.equal((await api2.get(queued.id)).status, "queued");
    const file = await fetch(`${server.url}/v1/files/${hash}`, {
      headers: { authorization: `Bearer ${embedded.bootstrap.clientKey}` },
    });
    assert.equal(await file.text(), "kept across the move");
    const again = await promisify(execFile)(process.execPath, [
      CLI,
      "migrate",
      "--from",
      `sqlite:${d.dataDir}`,
      "--to",
      d.db,
    ]).catch((err: { code: number; stderr: string }) => err);
    assert.notEqual((again as { code?: number }).code ?? 0, 0, "a second migrate into a non-empty database is refused");
  } finally {
    await server.close();
  }
});
