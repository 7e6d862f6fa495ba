import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";

export const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** Every file under a data dir's blobs/ (committed and staged), for "nothing was written" checks. */
export function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, "blobs");
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

/** `POST /v1/files?name=` with a raw body; returns status and parsed body. */
export async function upload(
  url: string,
  key: string,
  name: string,
  body: Uint8Array | string,
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/v1/files?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

const CHUNK = 1024 * 1024;

/**
 * Streams `total` pseudo-random bytes (a 1 MiB random block, each copy stamped with its index) as the
 * body of one request, hashing as it goes: nothing near `total` is ever held in memory.
 */
export function streamUpload(
  url: string,
  headers: Record<string, string>,
  total: number,
  method = "POST",
): Promise<{ status: number; body: any; hash: string }> {
  const base = randomBytes(CHUNK);
  const hasher = createHash("sha256");
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { ...headers, "content-type": "application/octet-stream", "content-length": String(total) },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(text), hash: hasher.digest("hex") }));
    });
    let sent = 0;
    let n = 0;
    const pump = () => {
      while (sent < total) {
        const chunk = Buffer.from(base.subarray(0, Math.min(CHUNK, total - sent)));
        chunk.writeUInt32LE(n++ % 2 ** 32, 0);
        sent += chunk.length;
        hasher.update(chunk);
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

/** Downloads a response body, hashing it without keeping it. */
export async function streamDownload(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; hash: string; size: number }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const hasher = createHash("sha256");
      let size = 0;
      res.on("data", (d: Buffer) => {
        size += d.length;
        hasher.update(d);
      });
      res.on("end", () => resolve({ status: res.statusCode!, hash: hasher.digest("hex"), size }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

/** Samples a process's VmRSS (MB) until stopped; returns the peak. */
export function rssSampler(pid: number, everyMs = 50): { peak(): number; stop(): number } {
  const read = () => rssMb(pid);
  let peak = read();
  const timer = setInterval(() => {
    peak = Math.max(peak, read());
  }, everyMs);
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, read());
    },
  };
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}
