import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "@gantry/agent";
import { GantryClient } from "@gantry/client";
import { startServer } from "@gantry/server";
import sharp from "sharp";
import { makeImage } from "../packages/agent/src/executors/shared/test-media.ts";

/**
 * `npx node bench/media-gantry-bench.ts [images] [capacity]`: images/s of `image_conversion` through
 * a server and a real agent (both in this process; the input uploaded once, cached by the agent,
 * each output uploaded back) against calling sharp directly at the same concurrency.
 * Reported, never asserted.
 */
const N = Number(process.argv[2] ?? 100);
const CAPACITY = Number(process.argv[3] ?? 2);
const dir = await mkdtemp(join(tmpdir(), "gantry-media-gbench-"));
const server = await startServer({ port: 0, dataDir: join(dir, "server"), logLevel: "warn" });
try {
  const src = join(dir, "in.png");
  await makeImage(src, 640, 480);
  const agent = await startAgent({
    server: server.url,
    key: server.bootstrap!.agentKey,
    configPath: join(dir, "agent.json"),
    dataDir: join(dir, "agent"),
    capacity: CAPACITY,
    metrics: false,
    statusServer: false,
    logLevel: "warn",
    print: () => {},
  });
  const client = new GantryClient({ url: server.url, apiKey: server.bootstrap!.clientKey });
  const file = await client.uploadFile(src, "in.png");
  const payload = { output_format: "jpg", quality: 80 };
  const viaGantry = async (n: number) => {
    const t0 = performance.now();
    const jobs = [];
    for (let i = 0; i < n; i++) jobs.push(client.submit({ capability: "image_conversion", payload, inputs: [file] }));
    const done = await Promise.all((await Promise.all(jobs)).map((j) => client.wait(j.id)));
    const failed = done.filter((j) => j.status !== "completed");
    if (failed.length)
      throw new Error(`${failed.length} jobs did not complete: ${JSON.stringify(failed[0]?.attempts)}`);
    return n / ((performance.now() - t0) / 1000);
  };
  const out = join(dir, "direct");
  await mkdir(out);
  const direct = async (n: number) => {
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < n; i = next++) {
        await sharp(src)
          .rotate()
          .jpeg({ quality: 80 })
          .toFile(join(out, `${i % CAPACITY}.jpg`));
      }
    };
    await Promise.all(Array.from({ length: CAPACITY }, worker));
    return n / ((performance.now() - t0) / 1000);
  };
  await viaGantry(10); // warm-up: executor threads, sharp, the input cache
  await direct(10);
  const [g, d] = [await viaGantry(N), await direct(N)];
  console.log(`| image_conversion 640×480 png → jpg q80, ${N} images, concurrency ${CAPACITY} | img/s |`);
  console.log(
    `|---|---|\n| sharp directly | ${d.toFixed(0)} |\n| through Gantry | ${g.toFixed(0)} (${((g / d) * 100).toFixed(0)}%) |`,
  );
  await agent.stop({ drainTimeoutMs: 1000 });
} finally {
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
