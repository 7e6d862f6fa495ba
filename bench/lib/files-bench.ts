import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import type { BenchOptions } from "./bench-options.ts";
import type { Children } from "./children.ts";
import { rssMb } from "./proc-stats.ts";
import { startServerChild } from "./server-child.ts";
import { round } from "./stats.ts";

export interface FileTransferFigures {
  mbPerSec: number;
  seconds: number;
  /** Peak server VmRSS during the transfer minus its RSS just before (after a full GC). */
  rssGrowthMb: number;
}

export interface FilesResult {
  bytes: number;
  upload: FileTransferFigures;
  download: FileTransferFigures;
  serverRssBeforeMb: number;
}

const CHUNK = 1024 * 1024;

/**
 * One file of `o.files.bytes` up (`POST /v1/files`, Content-Length, raw body) and down
 * (`GET /v1/files/:hash`) over loopback to a server child, sampling its RSS every 20 ms. The body is
 * one random 1 MiB block repeated (the client does no work per byte on the way up); the download is
 * hashed as the SDK does, and checked against the server's answer.
 */
export async function runFiles(children: Children, o: BenchOptions, log: (line: string) => void): Promise<FilesResult> {
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  try {
    const total = o.files.bytes;
    const block = randomBytes(CHUNK);
    const expected = createHash("sha256");
    for (let sent = 0; sent < total; sent += CHUNK) expected.update(block.subarray(0, Math.min(CHUNK, total - sent)));
    const hash = expected.digest("hex");
    const auth = { authorization: `Bearer ${server.bootstrap.clientKey}` };

    await server.gc();
    const before = rssMb(server.pid);
    const up = await measure(server.pid, () => upload(`${server.url}/v1/files?name=bench.bin`, auth, block, total));
    if (up.value !== hash) throw new Error(`upload answered hash ${up.value}, expected ${hash}`);
    log(`files: upload ${round(total / 1e6 / up.seconds, 0)} MB/s`);

    await server.gc();
    const beforeDown = rssMb(server.pid);
    const down = await measure(server.pid, () => download(`${server.url}/v1/files/${hash}`, auth));
    if (down.value !== hash) throw new Error(`download hashed to ${down.value}, expected ${hash}`);
    log(`files: download ${round(total / 1e6 / down.seconds, 0)} MB/s`);
    return {
      bytes: total,
      serverRssBeforeMb: round(before, 1),
      upload: figures(total, up.seconds, up.peak - before),
      download: figures(total, down.seconds, down.peak - beforeDown),
    };
  } finally {
    await server.stop();
  }
}

function figures(bytes: number, seconds: number, growth: number): FileTransferFigures {
  return { mbPerSec: round(bytes / 1e6 / seconds, 0), seconds: round(seconds, 2), rssGrowthMb: round(growth, 1) };
}

async function measure<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; seconds: number; peak: number }> {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, seconds: (performance.now() - t0) / 1000, peak: Math.max(peak, rssMb(pid)) };
  } finally {
    clearInterval(timer);
  }
}

function upload(url: string, headers: Record<string, string>, block: Buffer, total: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/octet-stream", "content-length": String(total) },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        if (res.statusCode !== 201) return reject(new Error(`upload answered ${res.statusCode}: ${text}`));
        resolve(JSON.parse(text).hash);
      });
    });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(CHUNK, total - sent);
        sent += n;
        if (!req.write(n === CHUNK ? block : block.subarray(0, n))) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

function download(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download answered ${res.statusCode}`));
      const hasher = createHash("sha256");
      res.on("data", (d: Buffer) => hasher.update(d));
      res.on("end", () => resolve(hasher.digest("hex")));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}
