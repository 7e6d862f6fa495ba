import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { unsafeFileNameReason } from "@gantry/protocol";
import { ServerList } from "../connection/server-list.ts";
import type { TlsConnectOptions } from "../connection/tls-options.ts";
import { InputCache } from "./input-cache.ts";

/** The input cache's default bound. */
export const INPUT_CACHE_BYTES = 2 * 1024 ** 3;
/** Most output files one job may leave. */
export const MAX_OUTPUT_FILES = 1000;

/** A file as a job names it. */
export interface JobFileRef {
  name: string;
  hash: string;
  size?: number | undefined;
}

/** A failed transfer: `status` 409 means the job is no longer this agent's (stale epoch). */
export class FileTransferError extends Error {
  readonly status: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.name = "FileTransferError";
    this.status = status;
    this.code = code;
  }
}

export interface JobFilesOptions {
  /** The server's base URL, or the agent's list of them (files go to the one it uses now). */
  server: string | ServerList;
  tls: TlsConnectOptions;
  /** The agent's current JWT (it is renewed while jobs run). */
  token(): string;
  cache: InputCache;
  /** Most output files one job may leave. */
  maxOutputFiles: number;
}

/** Counts and hashes bytes as they pass. */
function hashing(): { stream: Transform; digest(): string; bytes(): number } {
  const h = createHash("sha256");
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, digest: () => h.digest("hex"), bytes: () => n };
}

/**
 * Moves a job's files over the agent's file routes, streamed both ways (never whole in memory) and
 * fenced by the attempt's epoch: inputs into the job's `in/` directory, checked against their hash and
 * kept in the bounded cache; outputs (the regular files a job leaves in its output directory) up.
 */
export class JobFiles {
  readonly #o: JobFilesOptions;
  readonly #servers: ServerList;
  readonly #agent: http.Agent;
  readonly #mod: typeof http | typeof https;

  constructor(options: JobFilesOptions) {
    this.#o = options;
    this.#servers = typeof options.server === "string" ? new ServerList(options.server) : options.server;
    const secure = new URL(this.#servers.current).protocol === "https:";
    this.#mod = secure ? https : http;
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 4, ...options.tls })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  #url(jobId: string, epoch: number, name: string): URL {
    const p = `/v1/agent/jobs/${encodeURIComponent(jobId)}/files/${encodeURIComponent(name)}?epoch=${epoch}`;
    const base = new URL(this.#servers.current);
    return new URL(base.pathname.replace(/\/$/, "") + p, base);
  }

  /** Fetches every input (from the cache when it holds the hash); returns name → local path. */
  async fetchInputs(
    job: { id: string; epoch: number; inputs: JobFileRef[] },
    dir: string,
    signal: AbortSignal,
  ): Promise<Record<string, string>> {
    const paths: Record<string, string> = {};
    if (job.inputs.length === 0) return paths;
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const ref of job.inputs) {
      const dest = safeJoin(dir, ref.name);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
      if (!(await this.#o.cache.copyTo(ref.hash, dest, ref.size))) await this.#download(job, ref, dest, signal);
      paths[ref.name] = dest;
    }
    return paths;
  }

  /**
   * Streams one input into a temporary file. A connection that breaks mid-way is resumed with
   * `Range` from the bytes already on disk (up to RESUME_TRIES times), so a big model does not start
   * over; the hash is checked over the whole file at the end.
   */
  async #download(job: { id: string; epoch: number }, ref: JobFileRef, dest: string, signal: AbortSignal) {
    const url = this.#url(job.id, job.epoch, ref.name);
    const tmp = this.#o.cache.tempPath();
    try {
      for (let attempt = 0; ; attempt++) {
        const have = attempt === 0 ? 0 : await fileSize(tmp);
        try {
          const res = await this.#request("GET", url, signal, have > 0 ? { range: `bytes=${have}-` } : {});
          const resumed = have > 0 && res.statusCode === 206;
          if (res.statusCode !== 200 && !resumed) throw await this.#failure(res, `input ${ref.name}`);
          const out = fs.createWriteStream(tmp, { mode: 0o600, flags: resumed ? "a" : "w" });
          await pipeline(res, out, { signal });
          break;
        } catch (err) {
          // HTTP refusals and aborts are final; a broken connection is resumed.
          if (signal.aborted || err instanceof FileTransferError || attempt >= RESUME_TRIES) throw err;
          await sleep(250 * 2 ** attempt, undefined, { signal });
        }
      }
      const { hash, size } = await hashFile(tmp);
      if (hash !== ref.hash) throw new FileTransferError(`input ${ref.name}: got sha256 ${hash}, expected ${ref.hash}`);
      await this.#o.cache.admit(tmp, hash, size, dest);
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  /**
   * Uploads the regular files under `dir`, named by their relative path (`plots/a.png`). Links are
   * skipped, never followed: one could point anywhere on the machine.
   */
  async uploadOutputs(job: { id: string; epoch: number }, dir: string, signal: AbortSignal): Promise<JobFileRef[]> {
    const files = await listFiles(dir, this.#o.maxOutputFiles);
    const out: JobFileRef[] = [];
    for (const name of files) out.push(await this.#upload(job, name, safeJoin(dir, name), signal));
    return out;
  }

  async #upload(job: { id: string; epoch: number }, name: string, file: string, signal: AbortSignal) {
    const { size } = await fs.promises.stat(file);
    const h = hashing();
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = this.#mod.request(this.#url(job.id, job.epoch, name), {
        method: "PUT",
        agent: this.#agent,
        signal,
        headers: {
          authorization: `Bearer ${this.#o.token()}`,
          "content-type": "application/octet-stream",
          "content-length": String(size),
        },
      });
      req.once("response", resolve);
      req.once("error", reject);
      stallGuard(req);
      pipeline(fs.createReadStream(file), h.stream, req).catch(reject);
    });
    if (res.statusCode !== 201) throw await this.#failure(res, `output ${name}`);
    const body = JSON.parse(await readBounded(res, 65_536)) as { hash?: string; size?: number };
    if (body.hash !== h.digest()) throw new FileTransferError(`output ${name}: the server stored other bytes`);
    return { name, hash: body.hash, size: body.size ?? size };
  }

  #request(
    method: string,
    url: URL,
    signal: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.#mod.request(url, {
        method,
        agent: this.#agent,
        signal,
        headers: { ...headers, authorization: `Bearer ${this.#o.token()}` },
      });
      req.once("response", resolve);
      req.once("error", reject);
      stallGuard(req);
      req.end();
    });
  }

  async #failure(res: http.IncomingMessage, what: string): Promise<FileTransferError> {
    const text = await readBounded(res, 65_536).catch(() => "");
    let code: string | undefined;
    let message = `HTTP ${res.statusCode}`;
    try {
      const env = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = env.error?.code;
      if (env.error?.message) message = env.error.message;
    } catch {
      // not an envelope
    }
    return new FileTransferError(`${what}: ${message}`, res.statusCode, code);
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** `name` (a relative "/" path, as the protocol allows) under `dir`; anything unsafe is refused. */
function safeJoin(dir: string, name: string): string {
  const why = unsafeFileNameReason(name);
  const dest = path.resolve(dir, ...name.split("/"));
  if (why || !dest.startsWith(dir + path.sep)) {
    throw new FileTransferError(`file name ${JSON.stringify(name)} ${why ?? "leaves the job's directory"}`);
  }
  return dest;
}

/** Relative paths of the regular files under `dir`, sorted; more than `max` is an error. */
async function listFiles(dir: string, max: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await fs.promises.readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (e.isFile()) out.push(name);
      else if (e.isDirectory() && depth < 32) await walk(name, depth + 1);
      if (out.length > max) throw new FileTransferError(`the job left more than ${max} output files`);
    }
  };
  await walk("", 0);
  return out.sort();
}

/** Times a broken download is resumed before the attempt fails. */
const RESUME_TRIES = 3;

async function fileSize(file: string): Promise<number> {
  return (await fs.promises.stat(file).catch(() => ({ size: 0 }))).size;
}

/** sha256 and size of a file, streamed. */
async function hashFile(file: string): Promise<{ hash: string; size: number }> {
  const h = hashing();
  await pipeline(fs.createReadStream(file), h.stream, new Writable({ write: (_c, _e, cb) => cb() }));
  return { hash: h.digest(), size: h.bytes() };
}

/** A transfer that moves no byte for this long is broken off (a stalled server must not hold a job forever). */
const STALL_MS = 60_000;

function stallGuard(req: http.ClientRequest): void {
  req.setTimeout(STALL_MS, () => req.destroy(new FileTransferError(`no data moved for ${STALL_MS / 1000} s`)));
}

/** A response body as text, at most `max` bytes (the rest is drained, not kept). */
async function readBounded(res: http.IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    if (n < max) chunks.push(c.subarray(0, max - n));
    n += c.length;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The agent's file mover: inputs cached under `<data>/cache/inputs/` (bounded), the JWT read per request. */
export function createJobFiles(
  o: { server: string | ServerList; tls: TlsConnectOptions; dataDir: string; inputCacheBytes?: number | undefined },
  token: () => string,
): JobFiles {
  const cache = new InputCache(path.join(o.dataDir, "cache", "inputs"), o.inputCacheBytes ?? INPUT_CACHE_BYTES);
  return new JobFiles({ server: o.server, tls: o.tls, token, cache, maxOutputFiles: MAX_OUTPUT_FILES });
}
