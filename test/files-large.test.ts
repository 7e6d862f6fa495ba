import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { rssMb, rssSampler, streamDownload, streamUpload } from "./helpers/files.ts";
import { type ServerProc, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";

// A 1 GiB file through a server process: its memory must stay flat (streamed, never buffered).
// The bound is generous (a slow machine's GC is lazy); the bench reports the real figure.
const GiB = 1024 ** 3;
const RSS_GROWTH_BOUND_MB = 200;

const dir = tempDir();
let server: ServerProc;

before(async () => {
  server = await spawnServer({ port: 0, dataDir: dir.path, logLevel: "warn" });
});
after(async () => {
  server.kill("SIGTERM");
  await server.exited;
  dir.remove();
});

it("moves a 1 GiB file up and down with flat server memory and matching hashes", { timeout: 600_000 }, async () => {
  const auth = { authorization: `Bearer ${server.bootstrap.clientKey}` };
  const pid = server.proc.pid!;
  const base = rssMb(pid);
  const up = rssSampler(pid);
  const sent = await streamUpload(`${server.url}/v1/files?name=big.bin`, auth, GiB);
  const upPeak = up.stop();
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  assert.equal(sent.body.hash, sent.hash);
  assert.equal(sent.body.size, GiB);

  const down = rssSampler(pid);
  const got = await streamDownload(`${server.url}/v1/files/${sent.hash}`, auth);
  const downPeak = down.stop();
  assert.equal(got.status, 200);
  assert.equal(got.size, GiB);
  assert.equal(got.hash, sent.hash);

  const growth = Math.max(upPeak, downPeak) - base;
  assert.ok(growth < RSS_GROWTH_BOUND_MB, `server RSS grew ${growth.toFixed(1)} MB moving 1 GiB`);
});
