import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GantryClient, NotFoundError } from "@gantry/client";
import { sha256 } from "./helpers/files.ts";
import type { RawAgent } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

const GANTRY = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
const run = promisify(execFile);

let t: TestServer;
let agent: RawAgent;
let client: GantryClient;
const dir = tempDir();

before(async () => {
  t = await testServer({ ...FAST, leaseSecs: 30 });
  agent = await t.agent({ capabilities: ["files.echo"] });
  await agent.connect();
  agent.startHeartbeats(200);
  client = new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey });
});
after(async () => {
  await t.close();
  dir.remove();
});

/** Plays the agent: takes the next job, uploads each output, completes it. */
async function serve(outputs: Record<string, Buffer>) {
  const job = await agent.nextJob();
  for (const [name, body] of Object.entries(outputs)) {
    const r = await fetch(`${t.server.url}/v1/agent/jobs/${job.id}/files/${name}?epoch=${job.epoch}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/octet-stream" },
      body: new Uint8Array(body),
    });
    assert.equal(r.status, 201);
  }
  assert.equal(
    (await agent.request({ type: "job:completed", jobId: job.id, epoch: job.epoch, output: null })).type,
    "ack",
  );
  return job;
}

describe("SDK", () => {
  it("uploads from a path, bytes and a stream, submits with files, lists and downloads outputs", async () => {
    const path = join(dir.path, "local.bin");
    const local = randomBytes(200_000);
    writeFileSync(path, local);
    const fromPath = await client.uploadFile(path, "local.bin");
    assert.deepEqual(fromPath, { hash: sha256(local), size: local.length, name: "local.bin" });
    const bytes = Buffer.from("hello");
    assert.equal((await client.uploadFile(bytes, "hello.txt")).hash, sha256(bytes));
    const parts = [randomBytes(70_000), randomBytes(70_000)];
    const streamed = await client.uploadFile(Readable.from(parts), "parts.bin");
    assert.equal(streamed.hash, sha256(Buffer.concat(parts)));

    const progress: number[] = [];
    const submitted = await client.submit(
      { capability: "files.echo" },
      {
        files: [{ source: path }, { source: bytes, name: "greeting.txt" }],
        onProgress: (_n, p) => progress.push(p.bytes),
      },
    );
    assert.deepEqual(
      submitted.inputs.map((f) => [f.name, f.hash]),
      [
        ["local.bin", sha256(local)],
        ["greeting.txt", sha256(bytes)],
      ],
    );
    assert.ok(progress.length > 0);

    const out = randomBytes(300_000);
    const job = await serve({ "out.bin": out, "small.txt": Buffer.from("ok") });
    assert.equal(job.id, submitted.id);
    await client.wait(job.id);
    const listed = await client.listJobFiles(job.id);
    assert.deepEqual(
      listed.map((f) => f.name),
      ["out.bin", "small.txt"],
    );
    const seen: number[] = [];
    const dest = join(dir.path, "downloaded.bin");
    const got = await client.downloadJobFile(job.id, "out.bin", dest, { onProgress: (p) => seen.push(p.bytes) });
    assert.equal(got.hash, sha256(out));
    assert.equal(sha256(readFileSync(dest)), sha256(out));
    assert.equal(seen.at(-1), out.length);
    await assert.rejects(client.downloadJobFile(job.id, "missing.bin", join(dir.path, "x")), NotFoundError);
    assert.ok(!readdirSync(dir.path).some((f) => f.endsWith(".part")), "no partial file is left behind");
  });
});

describe("CLI", () => {
  const env = { ...process.env, GANTRY_URL: "", GANTRY_API_KEY: "" };
  const gantry = (...args: string[]) =>
    run(process.execPath, [GANTRY, ...args], {
      env: { ...env, GANTRY_URL: t.server.url, GANTRY_API_KEY: t.server.bootstrap.clientKey },
    });

  it("gantry job submit --file (repeatable, name=path) and gantry job download [NAME] -o DIR", async () => {
    const a = join(dir.path, "a.dat");
    const b = join(dir.path, "b.dat");
    writeFileSync(a, randomBytes(10_000));
    writeFileSync(b, "second");
    const submitting = gantry("job", "submit", "files.echo", "--file", a, "--file", `renamed.txt=${b}`, "--json");
    const outputs = { "result.bin": randomBytes(50_000), "log.txt": Buffer.from("done\n") };
    const [{ stdout, stderr }] = await Promise.all([submitting, serve(outputs)]);
    const job = JSON.parse(stdout);
    assert.deepEqual(
      job.inputs.map((f: { name: string }) => f.name),
      ["a.dat", "renamed.txt"],
    );
    assert.equal(stderr, "", "no progress bar off a terminal");
    await client.wait(job.id);

    const outDir = join(dir.path, "out");
    const all = await gantry("job", "download", job.id, "-o", outDir);
    assert.match(all.stdout, /result\.bin 50000 bytes/);
    assert.equal(all.stderr, "");
    assert.deepEqual(readdirSync(outDir).sort(), ["log.txt", "result.bin"]);
    assert.equal(sha256(readFileSync(join(outDir, "result.bin"))), sha256(outputs["result.bin"]));

    const oneDir = join(dir.path, "one");
    await gantry("job", "download", job.id, "log.txt", "-o", oneDir);
    assert.deepEqual(readdirSync(oneDir), ["log.txt"]);

    await assert.rejects(gantry("job", "download", job.id, "nope.txt", "-o", oneDir), /no output file "nope.txt"/);
    await assert.rejects(
      gantry("job", "submit", "files.echo", "--file", join(dir.path, "missing")),
      /not a readable file/,
    );
  });
});
