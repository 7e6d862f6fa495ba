import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { blobFiles, sha256, upload } from "./helpers/files.ts";
import type { RawAgent } from "./helpers/raw-agent.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
let agent: RawAgent;

before(async () => {
  t = await testServer({ ...FAST, leaseSecs: 30 });
  agent = await t.agent({ capabilities: ["files.test"] });
  await agent.connect();
  agent.startHeartbeats(200);
});
after(() => t.close());

const jobCount = async () => (await t.api.call("GET", "/v1/jobs?limit=500")).body.jobs.length;

const agentFetch = (path: string, init: RequestInit = {}) =>
  fetch(t.server.url + path, {
    ...init,
    headers: { authorization: `Bearer ${agent.token}`, ...(init.headers as Record<string, string>) },
  });

describe("job inputs", () => {
  it("takes inputs by hash, fills in their sizes, and refuses hashes the submitter does not hold", async () => {
    const data = randomBytes(1000);
    const { body: file } = await upload(t.server.url, t.api.key, "in.bin", data);
    const r = await t.api.call("POST", "/v1/jobs", {
      capability: "nobody.here",
      inputs: [{ name: "input.bin", hash: file.hash }],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.inputs, [{ name: "input.bin", hash: file.hash, size: 1000 }]);

    const before = await jobCount();
    const foreign = await t.api.call("POST", "/v1/jobs", {
      capability: "nobody.here",
      inputs: [{ name: "x", hash: sha256("not uploaded") }],
    });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, "file_not_found");
    assert.deepEqual(foreign.body.error.details.missing, [sha256("not uploaded")]);
    const unsafe = await t.api.call("POST", "/v1/jobs", {
      capability: "nobody.here",
      inputs: [{ name: "../x", hash: file.hash }],
    });
    assert.equal(unsafe.status, 400);
    assert.equal(unsafe.body.error.code, "file_name_unsafe");
    assert.equal(await jobCount(), before, "no job was created");
  });

  it("accepts a one-shot multipart submission: the job field, then its files", async () => {
    const a = randomBytes(5000);
    const b = Buffer.from("second file");
    const form = new FormData();
    form.append("job", JSON.stringify({ capability: "nobody.here", payload: { x: 1 } }));
    form.append("file", new Blob([a]), "a.bin");
    form.append("file", new Blob([b]), "b.txt");
    const r = await fetch(`${t.server.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.api.key}` },
      body: form,
    });
    const job = (await r.json()) as any;
    assert.equal(r.status, 201, JSON.stringify(job));
    assert.deepEqual(job.payload, { x: 1 });
    assert.deepEqual(job.inputs, [
      { name: "a.bin", hash: sha256(a), size: a.length },
      { name: "b.txt", hash: sha256(b), size: b.length },
    ]);
    const back = await fetch(`${t.server.url}/v1/files/${sha256(a)}`, {
      headers: { authorization: `Bearer ${t.api.key}` },
    });
    assert.equal(sha256(Buffer.from(await back.arrayBuffer())), sha256(a));
  });

  it("refuses a malformed multipart submission and keeps none of its files", async () => {
    const before = blobFiles(t.server.dataDir);
    const jobsBefore = await jobCount();
    const send = async (form: FormData) => {
      const r = await fetch(`${t.server.url}/v1/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.api.key}` },
        body: form,
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const unsafe = new FormData();
    unsafe.append("job", JSON.stringify({ capability: "nobody.here" }));
    unsafe.append("file", new Blob([randomBytes(100)]), "ok.bin");
    unsafe.append("file", new Blob([randomBytes(100)]), "..");
    const r1 = await send(unsafe);
    assert.equal(r1.status, 400);
    assert.equal(r1.body.error.code, "file_name_unsafe");

    const filesFirst = new FormData();
    filesFirst.append("file", new Blob([randomBytes(100)]), "early.bin");
    filesFirst.append("job", JSON.stringify({ capability: "nobody.here" }));
    const r2 = await send(filesFirst);
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error.code, "file_multipart_invalid");

    const badJob = new FormData();
    badJob.append("job", JSON.stringify({ capability: "Bad Capability!" }));
    badJob.append("file", new Blob([randomBytes(100)]), "x.bin");
    assert.equal((await send(badJob)).status, 400);

    assert.deepEqual(blobFiles(t.server.dataDir), before);
    assert.equal(await jobCount(), jobsBefore);
  });
});

describe("agent file routes", () => {
  it("lets the holding agent fetch inputs and upload outputs at its epoch; a stale epoch stores nothing", async () => {
    const input = randomBytes(4096);
    const { body: file } = await upload(t.server.url, t.api.key, "model-input.bin", input);
    const job = await t.api.submit({ capability: "files.test", inputs: [{ name: "in.bin", hash: file.hash }] });
    const assigned = await agent.nextJob();
    assert.equal(assigned.id, job.id);
    assert.deepEqual(assigned.inputs, [{ name: "in.bin", hash: file.hash, size: 4096 }]);
    const epoch = assigned.epoch;

    const got = await agentFetch(`/v1/agent/jobs/${job.id}/files/in.bin?epoch=${epoch}`);
    assert.equal(got.status, 200);
    assert.equal(sha256(Buffer.from(await got.arrayBuffer())), file.hash);
    const wrongName = await agentFetch(`/v1/agent/jobs/${job.id}/files/other.bin?epoch=${epoch}`);
    assert.equal(wrongName.status, 404);
    const staleRead = await agentFetch(`/v1/agent/jobs/${job.id}/files/in.bin?epoch=${epoch + 1}`);
    assert.equal(staleRead.status, 409);
    const noToken = await fetch(`${t.server.url}/v1/agent/jobs/${job.id}/files/in.bin?epoch=${epoch}`);
    assert.equal(noToken.status, 401);

    const put = (name: string, body: Buffer, e: number) =>
      agentFetch(`/v1/agent/jobs/${job.id}/files/${encodeURIComponent(name)}?epoch=${e}`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(body),
      });
    const before = blobFiles(t.server.dataDir);
    const stale = await put("out.bin", randomBytes(2000), epoch - 1 > 0 ? epoch - 1 : epoch + 1);
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as any).error.code, "agent_lease_stale");
    const unsafe = await put("../escape", randomBytes(10), epoch);
    assert.equal(unsafe.status, 400);
    assert.deepEqual(blobFiles(t.server.dataDir), before, "a refused upload stores nothing");

    const out1 = randomBytes(10_000);
    const out2 = Buffer.from('{"score":0.9}');
    const r1 = await put("result.bin", out1, epoch);
    assert.equal(r1.status, 201);
    assert.deepEqual(await r1.json(), { hash: sha256(out1), size: out1.length, name: "result.bin" });
    assert.equal((await put("metrics/run.json", out2, epoch)).status, 201);

    const done = await agent.request({ type: "job:completed", jobId: job.id, epoch, output: { ok: true } });
    assert.equal(done.type, "ack");
    const finished = await t.api.waitTerminal(job.id);
    assert.equal(finished.status, "completed");
    assert.deepEqual(
      finished.outputFiles.map((f) => f.name),
      ["result.bin", "metrics/run.json"],
    );

    const list = await t.api.call("GET", `/v1/jobs/${job.id}/files`);
    assert.deepEqual(list.body.files, [
      { name: "result.bin", hash: sha256(out1), size: out1.length },
      { name: "metrics/run.json", hash: sha256(out2), size: out2.length },
    ]);
    const dl = await fetch(`${t.server.url}/v1/jobs/${job.id}/files/result.bin`, {
      headers: { authorization: `Bearer ${t.api.key}`, range: "bytes=100-199" },
    });
    assert.equal(dl.status, 206);
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), out1.subarray(100, 200));
    const nested = await fetch(`${t.server.url}/v1/jobs/${job.id}/files/${encodeURIComponent("metrics/run.json")}`, {
      headers: { authorization: `Bearer ${t.api.key}` },
    });
    assert.equal(nested.status, 200);
    assert.deepEqual(Buffer.from(await nested.arrayBuffer()), out2);
    const missing = await t.api.call("GET", `/v1/jobs/${job.id}/files/nope.bin`);
    assert.equal(missing.status, 404);

    const late = await put("late.bin", randomBytes(10), epoch);
    assert.equal(late.status, 409, "a finished job takes no more outputs");
  });
});
