import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Job } from "@gantry/protocol";
import sharp from "sharp";
import { composeScene } from "../packages/agent/src/executors/face-detection/face-scenes.ts";
import { parseMasterPlaylist } from "../packages/agent/src/executors/hls-streaming/hls-playlist.ts";
import { writePoolingModel } from "../packages/agent/src/executors/image-embedding/onnx-test-model.ts";
import { makeImage, makeNotMedia, makeVideo } from "../packages/agent/src/executors/shared/test-media.ts";
import { readNpy } from "../packages/agent/src/executors/shared/write-npy.ts";
import { type Proc, spawnAgent } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The nine CL media plugins end to end: `gantry job submit <capability> --file … --wait --json`
 * against a real server and a real agent process, then `gantry job download`, checking the files.
 */
const GANTRY = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
const exec = promisify(execFile);
const dir = tempDir("gantry-media-");
let t: TestServer;
let agent: Proc;
const media: Record<string, string> = {};

before(async () => {
  t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 30, sweepIntervalMs: 100, logLevel: "warn" });
  const dataDir = join(dir.path, "agent");
  mkdirSync(join(dataDir, "models"), { recursive: true });
  await writePoolingModel(join(dataDir, "models", "clip_embedding.onnx"), {
    dim: 512,
    input: "pixel_values",
    output: "image_embeds",
  });
  await writePoolingModel(join(dataDir, "models", "dino_embedding.onnx"), {
    dim: 384,
    input: "pixel_values",
    output: "pooler_output",
  });
  media.photo = join(dir.path, "photo.png");
  await makeImage(media.photo, 400, 300);
  media.video = join(dir.path, "clip.mp4");
  await makeVideo(media.video, 2, 640, 360);
  media.faces = join(dir.path, "faces.jpg");
  await composeScene(media.faces, [{ person: "left", x: 100, y: 100 }]);
  media.text = join(dir.path, "notes.png");
  await makeNotMedia(media.text);
  agent = await spawnAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    dataDir,
    capacity: 2,
    metrics: false,
    statusServer: false,
    logLevel: "warn",
  });
});

after(async () => {
  agent?.kill("SIGKILL");
  await agent?.exited;
  await t?.close();
  dir.remove();
});

const env = () => ({ ...process.env, GANTRY_URL: t.server.url, GANTRY_API_KEY: t.server.bootstrap.clientKey });
const gantry = (...args: string[]) => exec(process.execPath, [GANTRY, ...args], { env: env(), maxBuffer: 16 << 20 });

/** Submits through the CLI, waits, and downloads every output file into a fresh folder. */
async function submit(capability: string, file: string, payload: object = {}) {
  const { stdout } = await gantry(
    "job",
    "submit",
    capability,
    "--file",
    file,
    "--payload",
    JSON.stringify(payload),
    "--wait",
    "--json",
  );
  const job = JSON.parse(stdout) as Job;
  assert.equal(job.status, "completed", JSON.stringify(job.attempts));
  const out = join(dir.path, `out-${job.id}`);
  await gantry("job", "download", job.id, "-o", out);
  return { job, out, output: job.output as any, files: readdirSync(out).sort() };
}

describe("the nine plugins through server and agent, from gantry job submit --file", () => {
  it("image_conversion: a webp of the same size", async () => {
    const r = await submit("image_conversion", media.photo!, { output_format: "webp", quality: 70 });
    assert.deepEqual(r.files, ["image_conversion.webp"]);
    const meta = await sharp(join(r.out, "image_conversion.webp")).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ["webp", 400, 300]);
    assert.deepEqual([r.output.width, r.output.format, r.output.output_path], [400, "webp", "image_conversion.webp"]);
  });

  it("media_thumbnail of a video: a 96×96 jpeg", async () => {
    const r = await submit("media_thumbnail", media.video!, { width: 96, height: 96, at_secs: 1 });
    assert.deepEqual(r.files, ["media_thumbnail.jpg"]);
    const meta = await sharp(join(r.out, "media_thumbnail.jpg")).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, r.output.source], ["jpeg", 96, 96, "video"]);
  });

  it("hash and exif: JSON only", async () => {
    const h = await submit("hash", media.photo!);
    assert.match(h.output.phash, /^[0-9a-f]{16}$/);
    assert.equal(h.output.sha256, createHash("sha256").update(readFileSync(media.photo!)).digest("hex"));
    assert.deepEqual(h.files, []);
    const e = await submit("exif", media.photo!);
    assert.deepEqual([e.output.make, e.output.gps], [null, null]);
  });

  it("hls_streaming: master playlist, variant playlist and segments come back as files", async () => {
    const r = await submit("hls_streaming", media.video!, { segment_secs: 1 });
    assert.equal(r.output.output_path, "hls_streaming.m3u8");
    const master = parseMasterPlaylist(readFileSync(join(r.out, "hls_streaming.m3u8"), "utf8"));
    assert.deepEqual(
      master.map((e) => e.uri),
      ["hls_streaming_360p.m3u8"],
    );
    for (const segment of r.output.variants[0].segments) assert.ok(r.files.includes(segment), segment);
  });

  it("face_detection and face_embedding (process-isolated): a face, its crop, its vector", async () => {
    const d = await submit("face_detection", media.faces!);
    assert.equal(d.output.faces.length, 1);
    assert.deepEqual(d.files, ["face_detection_0.jpg"]);
    const f = await submit("face_embedding", media.faces!);
    assert.equal(f.output.faces[0].embedding.length, 128);
    assert.deepEqual(readNpy(readFileSync(join(f.out, "face_embedding.npy"))).shape, [1, 128]);
  });

  it("clip_embedding and dino_embedding from the agent's models dir", async () => {
    for (const [cap, dim] of [
      ["clip_embedding", 512],
      ["dino_embedding", 384],
    ] as const) {
      const r = await submit(cap, media.photo!);
      assert.equal(r.output.embedding.length, dim);
      const npy = readNpy(readFileSync(join(r.out, `${cap}.npy`)));
      assert.deepEqual(npy.shape, [dim]);
      assert.deepEqual(Array.from(npy.data), r.output.embedding);
    }
  });

  it("a bad payload is refused at submit (400), and no job is made", async () => {
    const before = (await t.api.call("GET", "/v1/jobs?limit=500")).body.jobs.length;
    const r = await t.api.call("POST", "/v1/jobs", {
      capability: "image_conversion",
      payload: { output_format: "bmp" },
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "validation_failed");
    assert.match(r.body.error.message, /invalid payload for image_conversion: output_format/);
    assert.equal((await t.api.call("GET", "/v1/jobs?limit=500")).body.jobs.length, before);
  });

  it("bad input fails the job once, as fatal, with the reason", async () => {
    const failed = gantry(
      "job",
      "submit",
      "image_conversion",
      "--file",
      media.text!,
      "--payload",
      '{"output_format":"png"}',
      "--wait",
      "--json",
    );
    const err = (await failed.then(
      () => assert.fail("the job should fail"),
      (e: { stdout: string }) => e,
    )) as { stdout: string };
    const job = JSON.parse(err.stdout) as Job;
    assert.equal(job.status, "failed");
    assert.equal(job.attempts.length, 1, "fatal: not retried");
    assert.equal(job.attempts[0]!.error?.category, "fatal");
    assert.match(job.attempts[0]!.error?.message ?? "", /not an image in a supported format/);
  });
});
