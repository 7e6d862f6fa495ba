import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { GantryClient } from "@gantry/client";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer(FAST);
});
after(() => t.close());

const HASH = { phash: "0123456789abcdef", dhash: "fedcba9876543210", md5: "0".repeat(32), sha256: "a".repeat(64) };

test("plugins.hash.compute(Buffer, {}, {wait}) uploads, submits `hash` with the file as input, and returns the typed output", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
  const a = await t.agent({ capabilities: ["hash"] });
  a.startHeartbeats(100);
  await a.connect();
  const pending = client.plugins.hash.compute(new TextEncoder().encode("hello"), {}, { wait: true, fileName: "h.bin" });
  const job = await a.nextJob(20_000);
  assert.equal(job.capability, "hash");
  assert.equal(job.inputs[0]?.name, "h.bin");
  assert.equal(job.inputs[0]?.size, 5);
  await a.request({ type: "job:started", jobId: job.id, epoch: job.epoch });
  await a.request({ type: "job:completed", jobId: job.id, epoch: job.epoch, output: HASH });
  const done = await pending;
  assert.equal(done.status, "completed");
  assert.equal(done.output?.sha256, HASH.sha256);
  client.close();
  await a.close();
});

test("a plugin payload that does not fit the protocol table is refused before anything is uploaded", async () => {
  const client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
  await assert.rejects(
    // @ts-expect-error: output_format is typed from the table; a wrong value is a compile error too.
    client.plugins.imageConversion.convert(new Uint8Array([1]), { output_format: "bogus" }),
    /output_format|Invalid/,
  );
  client.close();
});
