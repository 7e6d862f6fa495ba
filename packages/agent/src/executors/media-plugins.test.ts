import assert from "node:assert/strict";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type JobProgress, PLUGINS, type PluginCapability } from "@gantry/protocol";
import { type Executor, type ExecutorContext, ExecutorError, type ExecutorSettings } from "../runner/executor.ts";
import { composeScene } from "./face-detection/face-scenes.ts";
import { writePoolingModel } from "./image-embedding/onnx-test-model.ts";
import { MEDIA_PLUGINS } from "./media-plugins.ts";
import { makeImage, makeVideo, tempDir } from "./shared/test-media.ts";

const load = async (cap: PluginCapability) => ((await import(MEDIA_PLUGINS[cap])) as { default: Executor }).default;

const settingsFor = (dataDir: string): ExecutorSettings => ({
  allowShell: false,
  benchmarks: {},
  dataDir,
  inheritEnv: {},
  maxLogBytes: 1 << 20,
  maxOutputBytes: 1 << 20,
  maxChildMemoryMb: 0,
  killGraceMs: 1000,
});

const job = (capability: string, payload: unknown) => ({ id: "job", capability, payload, inputs: [], attempt: 1 });

function context(inputs: string[], outputDir: string, dataDir = outputDir) {
  const progress: JobProgress[] = [];
  const ctx: ExecutorContext = {
    inputPaths: Object.fromEntries(inputs.map((path, i) => [`input-${i}`, path])),
    outputDir,
    workDir: outputDir,
    signal: new AbortController().signal,
    progress: (p) => progress.push(p),
    log: () => true,
    logDropped: () => {},
    settings: settingsFor(dataDir),
  };
  return { ctx, progress };
}

test("the table and the plugins agree: nine capabilities, each module serving its own", async () => {
  assert.deepEqual(Object.keys(MEDIA_PLUGINS).sort(), Object.keys(PLUGINS).sort());
  for (const cap of Object.keys(MEDIA_PLUGINS) as PluginCapability[]) {
    const plugin = await load(cap);
    assert.deepEqual([plugin.name, plugin.capabilities], [cap, [cap]]);
  }
});

test("detect: everything but the embeddings is available here; those name the absent model file", async (t) => {
  const dataDir = await tempDir(t);
  const modelsDir = join(dataDir, "models");
  await mkdir(modelsDir);
  for (const cap of Object.keys(MEDIA_PLUGINS) as PluginCapability[]) {
    const detection = await (await load(cap)).detect(settingsFor(dataDir));
    if (typeof detection === "boolean") assert.fail(`${cap}: detect() says why, not just ${detection}`);
    if (cap === "clip_embedding" || cap === "dino_embedding") {
      assert.equal(detection.available, false);
      assert.match(detection.available ? "" : detection.reason, new RegExp(`models/${cap}\\.onnx is absent`));
    } else {
      assert.equal(detection.available, true, `${cap}: ${JSON.stringify(detection)}`);
    }
  }
  await writePoolingModel(join(modelsDir, "clip_embedding.onnx"), { dim: 512, input: "x", output: "image_embeds" });
  assert.deepEqual(await (await load("clip_embedding")).detect(settingsFor(dataDir)), { available: true });
});

test("every plugin through its adapter: output matches the protocol schema, files land in the output dir, progress ends at 100", async (t) => {
  const dir = await tempDir(t);
  const modelsDir = join(dir, "models");
  await mkdir(modelsDir);
  // The agent's models dir is <data dir>/models.
  await writePoolingModel(join(modelsDir, "clip_embedding.onnx"), {
    dim: 512,
    input: "pixel_values",
    output: "image_embeds",
  });
  await writePoolingModel(join(modelsDir, "dino_embedding.onnx"), {
    dim: 384,
    input: "pixel_values",
    output: "pooler_output",
  });
  const image = join(dir, "photo.png");
  await makeImage(image, 400, 300);
  const video = join(dir, "clip.mp4");
  await makeVideo(video, 2, 640, 360);
  const face = join(dir, "face.jpg");
  await composeScene(face, [{ person: "left", x: 100, y: 100 }]);
  const jobs: [PluginCapability, string, object][] = [
    ["image_conversion", image, { output_format: "webp", quality: 70 }],
    ["media_thumbnail", video, { width: 64, height: 64 }],
    ["hash", image, {}],
    ["exif", image, {}],
    ["hls_streaming", video, { variants: ["360p"] }],
    ["face_detection", face, {}],
    ["face_embedding", face, {}],
    ["clip_embedding", image, {}],
    ["dino_embedding", image, {}],
  ];
  for (const [cap, input, payload] of jobs) {
    const outputDir = join(dir, `out-${cap}`);
    await mkdir(outputDir);
    const { ctx, progress } = context([input], outputDir, dir);
    const output = await (await load(cap)).run(job(cap, payload), ctx);
    const parsed = PLUGINS[cap].output.safeParse(output);
    assert.ok(parsed.success, `${cap}: ${parsed.error?.message}`);
    const named = JSON.stringify(output).match(/[a-z_0-9]+\.(?:webp|jpg|m3u8|ts|npy)/g) ?? [];
    const written = await readdir(outputDir);
    for (const file of named) assert.ok(written.includes(file), `${cap} names ${file}, which it wrote`);
    assert.equal(progress.at(-1)?.percent, 100, cap);
    assert.equal(progress.at(-1)?.stage, "done", cap);
  }
});

test("adapters refuse a bad payload and a wrong number of inputs as fatal", async (t) => {
  const dir = await tempDir(t);
  const image = join(dir, "photo.png");
  await makeImage(image, 40, 30);
  const plugin = await load("image_conversion");
  const isFatal = (code: string | undefined, message: RegExp) => (err: unknown) =>
    err instanceof ExecutorError && err.category === "fatal" && err.code === code && message.test(err.message);
  await assert.rejects(
    plugin.run(job("image_conversion", { output_format: "bmp" }), context([image], dir).ctx),
    isFatal("bad_payload", /invalid payload: output_format/),
  );
  await assert.rejects(
    plugin.run(job("image_conversion", { output_format: "png" }), context([], dir).ctx),
    isFatal(undefined, /exactly one input file, got 0/),
  );
});
