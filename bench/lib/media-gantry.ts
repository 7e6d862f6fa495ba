import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { GantryClient } from "@gantry/client";
import sharp from "sharp";
import { makeImage } from "../../packages/agent/src/executors/shared/test-media.ts";
import type { Children } from "./children.ts";
import { startRealAgent, waitRealAgentReady } from "./real-agent.ts";
import { startServerChild } from "./server-child.ts";
import { median, round } from "./stats.ts";

export interface MediaOptions {
  /** Images per measured batch, per capability, per run. */
  images: number;
  /** The agent's slots, and the direct loop's concurrency. */
  capacity: number;
  /** The agent's prefetch (docs/agent.md "Prefetch"): jobs held beyond its slots. */
  prefetch: number;
  /** Interleaved runs (median reported). */
  runs: number;
  serverProfDir?: string | undefined;
  agentProfDir?: string | undefined;
}

export interface MediaRow {
  capability: string;
  directPerSec: number;
  gantryPerSec: number;
  ratio: number;
  directRuns: number[];
  gantryRuns: number[];
}

export interface MediaResult {
  images: number;
  capacity: number;
  prefetch: number;
  runs: number;
  loadAvg: number[];
  rows: MediaRow[];
}

const CAPABILITIES = ["image_conversion", "media_thumbnail", "hash"] as const;
type Capability = (typeof CAPABILITIES)[number];

const PAYLOADS: Record<Capability, Record<string, unknown>> = {
  image_conversion: { output_format: "jpg", quality: 80 },
  media_thumbnail: { width: 256, height: 256, fit: "cover" },
  hash: {},
};

/**
 * Media plugins through Gantry vs sharp directly, as a user sees them: a server process and a real
 * `@gantry/agent` process (the same startAgent the `gantry agent` command runs; capacity slots, the
 * media executors in its worker threads), and a client in this process that uploads one 640×480 PNG
 * once and then submits a batch of `images` jobs at once, waiting for every one to complete. Gantry's
 * figure is images / (first submit → last completion seen by the client): it includes submit, push,
 * input materialised from the agent's cache, the plugin, output upload (fsynced on the server) and
 * job:completed. Direct is the bare sharp call each plugin wraps (same as bench/media-bench.ts), in
 * this process, `capacity` at a time, output to a local file. Both share this machine's cores;
 * capabilities and sides alternate within each run, and the median of `runs` is reported.
 */
export async function runMedia(children: Children, o: MediaOptions, log: (s: string) => void): Promise<MediaResult> {
  const dir = children.tempDir("media");
  const src = join(dir, "in.png");
  await makeImage(src, 640, 480);
  const out = join(dir, "direct");
  await mkdir(out);
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  const agent = startRealAgent(children, server.url, server.bootstrap.agentKey, {
    capacity: o.capacity,
    prefetch: o.prefetch,
    capability: CAPABILITIES.join(","),
    cpuProfDir: o.agentProfDir,
  });
  await waitRealAgentReady(agent);
  const client = new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey });
  const file = await client.uploadFile(src, "in.png");

  const viaGantry = async (capability: Capability, n: number) => {
    const t0 = performance.now();
    const jobs = await Promise.all(
      Array.from({ length: n }, () => client.submit({ capability, payload: PAYLOADS[capability], inputs: [file] })),
    );
    const done = await Promise.all(jobs.map((j) => client.wait(j.id)));
    const failed = done.filter((j) => j.status !== "completed");
    if (failed.length)
      throw new Error(`${capability}: ${failed.length} jobs did not complete: ${JSON.stringify(failed[0])}`);
    return n / ((performance.now() - t0) / 1000);
  };
  const once: Record<Capability, (slot: number) => Promise<unknown>> = {
    image_conversion: (s) =>
      sharp(src)
        .rotate()
        .jpeg({ quality: 80 })
        .toFile(join(out, `c${s}.jpg`)),
    media_thumbnail: (s) =>
      sharp(src)
        .rotate()
        .resize(256, 256, { fit: "cover" })
        .jpeg({ quality: 85 })
        .toFile(join(out, `t${s}.jpg`)),
    hash: async () => {
      const luma = (w: number, h: number) =>
        sharp(src).rotate().flatten({ background: "#fff" }).greyscale().resize(w, h, { fit: "fill" }).raw().toBuffer();
      await Promise.all([luma(32, 32), luma(9, 8)]);
      const bytes = await readFile(src);
      return [createHash("md5").update(bytes).digest(), createHash("sha256").update(bytes).digest()];
    },
  };
  const direct = async (capability: Capability, n: number) => {
    const t0 = performance.now();
    let next = 0;
    const worker = async (slot: number) => {
      while (next++ < n) await once[capability](slot);
    };
    await Promise.all(Array.from({ length: o.capacity }, (_, s) => worker(s)));
    return n / ((performance.now() - t0) / 1000);
  };

  for (const c of CAPABILITIES) {
    await viaGantry(c, 2 * o.capacity); // warm-up: executor threads, sharp, the input cache
    await direct(c, 2 * o.capacity);
  }
  const figures = new Map(CAPABILITIES.map((c) => [c, { d: [] as number[], g: [] as number[] }]));
  for (let run = 0; run < o.runs; run++) {
    for (const c of CAPABILITIES) {
      const f = figures.get(c)!;
      // Alternate which side goes first, so drift in the shared machine's load hits both alike.
      if (run % 2 === 0) {
        f.d.push(await direct(c, o.images));
        f.g.push(await viaGantry(c, o.images));
      } else {
        f.g.push(await viaGantry(c, o.images));
        f.d.push(await direct(c, o.images));
      }
      log(`media run ${run + 1} ${c}: direct ${f.d.at(-1)!.toFixed(0)}, gantry ${f.g.at(-1)!.toFixed(0)} img/s`);
    }
  }
  const rows = CAPABILITIES.map((capability) => {
    const { d, g } = figures.get(capability)!;
    const directPerSec = median(d);
    const gantryPerSec = median(g);
    return {
      capability,
      directPerSec: round(directPerSec),
      gantryPerSec: round(gantryPerSec),
      ratio: round(gantryPerSec / directPerSec, 2),
      directRuns: d.map((x) => round(x)),
      gantryRuns: g.map((x) => round(x)),
    };
  });
  const { loadavg } = await import("node:os");
  return {
    images: o.images,
    capacity: o.capacity,
    prefetch: o.prefetch,
    runs: o.runs,
    loadAvg: loadavg().map((x) => round(x, 1)),
    rows,
  };
}

/** The section as a markdown table. */
export function renderMedia(r: MediaResult): string {
  const lines = [
    `media: 640×480 PNG, ${r.images} images per batch, capacity ${r.capacity}, prefetch ${r.prefetch}, median of ${r.runs}, load ${r.loadAvg.join(" ")}`,
    "| capability | sharp directly (img/s) | through Gantry (img/s) | ratio |",
    "|---|---|---|---|",
  ];
  for (const x of r.rows) {
    lines.push(`| ${x.capability} | ${x.directPerSec} | ${x.gantryPerSec} | ${Math.round(x.ratio * 100)}% |`);
  }
  return lines.join("\n");
}
