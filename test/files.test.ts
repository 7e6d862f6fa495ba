import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { blobFiles, sha256, upload } from "./helpers/files.ts";
import { FAST, sleep, type TestServer, testServer } from "./helpers/test-server.ts";

const MiB = 1024 * 1024;
let t: TestServer;

before(async () => {
  t = await testServer({ ...FAST, maxFileBytes: 2 * MiB, fileQuotaBytes: 3 * MiB });
});
after(() => t.close());

const get = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(t.server.url + path, { headers: { authorization: `Bearer ${t.api.key}`, ...headers } });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
};

describe("upload and download", () => {
  it("stores a file by sha256, once, and gives it back to its owner with an ETag", async () => {
    const data = randomBytes(300_000);
    const first = await upload(t.server.url, t.api.key, "photo.jpg", data);
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { hash: sha256(data), size: data.length, name: "photo.jpg" });
    const before = blobFiles(t.server.dataDir).length;
    const again = await upload(t.server.url, t.api.key, "copy.jpg", data);
    assert.equal(again.status, 201);
    assert.equal(again.body.hash, first.body.hash);
    assert.equal(blobFiles(t.server.dataDir).length, before, "the same bytes are stored once");

    const r = await get(`/v1/files/${first.body.hash}`);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.bytes), first.body.hash);
    assert.equal(r.headers.get("content-length"), String(data.length));
    assert.equal(r.headers.get("etag"), `"${first.body.hash}"`);
    assert.equal((await get(`/v1/files/${first.body.hash}`, { "if-none-match": `"${first.body.hash}"` })).status, 304);
  });

  it("answers 404 for a hash the caller does not hold", async () => {
    const r = await fetch(`${t.server.url}/v1/files/${sha256("never uploaded")}`, {
      headers: { authorization: `Bearer ${t.api.key}` },
    });
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as any).error.code, "file_not_found");
  });

  it("serves byte ranges: 206 with Content-Range, suffix and open ranges, 416 outside the file", async () => {
    const data = Buffer.from("0123456789abcdefghij");
    const { body } = await upload(t.server.url, t.api.key, "range.txt", data);
    const path = `/v1/files/${body.hash}`;
    const head = await get(path, { range: "bytes=0-9" });
    assert.equal(head.status, 206);
    assert.equal(head.bytes.toString(), "0123456789");
    assert.equal(head.headers.get("content-range"), "bytes 0-9/20");
    assert.equal(head.headers.get("content-length"), "10");
    assert.equal((await get(path, { range: "bytes=-5" })).bytes.toString(), "fghij");
    assert.equal((await get(path, { range: "bytes=15-" })).bytes.toString(), "fghij");
    assert.equal((await get(path, { range: "bytes=18-100" })).bytes.toString(), "ij");
    const out = await get(path, { range: "bytes=20-" });
    assert.equal(out.status, 416);
    assert.equal(out.headers.get("content-range"), "bytes */20");
    assert.equal(JSON.parse(out.bytes.toString()).error.code, "file_range_not_satisfiable");
    // Several ranges, or If-Range with another validator: the whole file.
    assert.equal((await get(path, { range: "bytes=0-1,4-5" })).status, 200);
    assert.equal((await get(path, { range: "bytes=0-1", "if-range": '"other"' })).status, 200);
  });
});

describe("refusals store nothing", () => {
  it("refuses unsafe names with 400 file_name_unsafe", async () => {
    const before = blobFiles(t.server.dataDir);
    for (const name of [
      "../etc/passwd",
      "/abs",
      "a//b",
      "a/../b",
      "dir/",
      "C:x",
      "a\\b",
      "nul\u0000x",
      "ctl\nx",
      "",
      ".",
      "..",
      "x".repeat(256),
      `${"y/".repeat(250)}z`,
    ]) {
      const r = await upload(t.server.url, t.api.key, name, "data");
      assert.equal(r.status, 400, `name ${JSON.stringify(name)}`);
      assert.ok(["file_name_unsafe", "validation_failed"].includes(r.body.error.code), JSON.stringify(r.body));
    }
    assert.equal((await upload(t.server.url, t.api.key, "../x", "d")).body.error.code, "file_name_unsafe");
    assert.deepEqual(blobFiles(t.server.dataDir), before);
  });

  it("refuses a file over the size limit with 413, declared or streamed, and removes the partial file", async () => {
    const before = blobFiles(t.server.dataDir);
    const declared = await upload(t.server.url, t.api.key, "big.bin", randomBytes(2 * MiB + 1));
    assert.equal(declared.status, 413);
    assert.equal(declared.body.error.code, "file_too_large");
    const streamed = await chunkedUpload("big2.bin", [randomBytes(MiB), randomBytes(MiB), randomBytes(MiB)]);
    assert.equal(streamed.status, 413);
    assert.equal(streamed.body.error.code, "file_too_large");
    assert.deepEqual(blobFiles(t.server.dataDir), before);
  });

  it("refuses a file past the owner's quota with 413, and a file already held still uploads", async () => {
    // Quota 3 MiB; earlier tests hold well under 1 MiB.
    const a = randomBytes(1.5 * MiB);
    assert.equal((await upload(t.server.url, t.api.key, "a.bin", a)).status, 201);
    const before = blobFiles(t.server.dataDir);
    const over = await upload(t.server.url, t.api.key, "b.bin", randomBytes(1.5 * MiB));
    assert.equal(over.status, 413);
    assert.equal(over.body.error.code, "file_quota_exceeded");
    assert.deepEqual(blobFiles(t.server.dataDir), before);
    assert.equal((await upload(t.server.url, t.api.key, "a-again.bin", a)).status, 201, "held: costs nothing");
  });
});

describe("one-shot multipart submission", () => {
  it("refuses a file over the size limit with 413 and keeps neither it nor the files before it", async () => {
    const before = blobFiles(t.server.dataDir);
    const jobs = (await t.api.call("GET", "/v1/jobs")).body.jobs.length;
    const form = new FormData();
    form.append("job", JSON.stringify({ capability: "nobody.here" }));
    form.append("file", new Blob([new Uint8Array(randomBytes(1000))]), "small.bin");
    form.append("file", new Blob([new Uint8Array(randomBytes(2 * MiB + 10))]), "big.bin");
    const r = await fetch(`${t.server.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.api.key}` },
      body: form,
    });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as any).error.code, "file_too_large");
    assert.deepEqual(blobFiles(t.server.dataDir), before);
    assert.equal((await t.api.call("GET", "/v1/jobs")).body.jobs.length, jobs);
  });
});

/** A body sent with Transfer-Encoding: chunked (no Content-Length), so the server must count as it reads. */
function chunkedUpload(name: string, chunks: Buffer[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.server.url}/v1/files?name=${name}`,
      { method: "POST", headers: { authorization: `Bearer ${t.api.key}`, "content-type": "application/octet-stream" } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe("an upload cut off mid-body", () => {
  it("leaves no staged file and the server keeps serving", async () => {
    const before = blobFiles(t.server.dataDir);
    await new Promise<void>((resolve) => {
      const req = request(`${t.server.url}/v1/files?name=cut.bin`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${t.api.key}`,
          "content-type": "application/octet-stream",
          "content-length": String(MiB),
        },
      });
      req.on("error", () => resolve());
      req.on("response", () => resolve());
      req.write(randomBytes(64 * 1024), () => setTimeout(() => req.destroy(), 100));
    });
    for (let i = 0; i < 100 && blobFiles(t.server.dataDir).length !== before.length; i++) await sleep(50);
    assert.deepEqual(blobFiles(t.server.dataDir), before);
    assert.equal((await upload(t.server.url, t.api.key, "after.txt", "still here")).status, 201);
  });
});
