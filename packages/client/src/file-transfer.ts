import { type FileRef, ListJobFilesResponse, UploadFileResponse } from "@gantry/protocol";
import { errorFromResponse } from "./error-from-envelope.ts";
import { ProtocolError } from "./errors.ts";
import type { HttpTransport } from "./http-transport.ts";

/**
 * What uploadFile accepts: a path (Node), bytes, a Blob/File (browsers), a web ReadableStream or a
 * Node Readable. Paths and Blobs are sent with their length; streams are sent chunked.
 */
export type FileSource = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface TransferProgress {
  /** Bytes moved so far. */
  bytes: number;
  /** The whole size, when known. */
  total: number | undefined;
}

export interface TransferOptions {
  signal?: AbortSignal | undefined;
  /** Called as bytes move (at most once per chunk). */
  onProgress?: ((p: TransferProgress) => void) | undefined;
}

/** A file to send with a job: its source and the name the job sees (default: the path's last segment). */
export interface JobFile {
  source: FileSource;
  name?: string | undefined;
}

/** Streams one file to `POST /v1/files`; the server answers its sha256 and size. */
export async function uploadFile(
  http: HttpTransport,
  source: FileSource,
  name: string,
  opts: TransferOptions = {},
): Promise<UploadFileResponse> {
  const { body, total } = await bodyOf(source, opts.onProgress);
  const headers: Record<string, string> = {
    ...(await http.authHeaders()),
    "content-type": "application/octet-stream",
    accept: "application/json",
  };
  if (total !== undefined) headers["content-length"] = String(total);
  const init: RequestInit & { duplex?: "half" } = { method: "POST", headers, body, signal: opts.signal };
  if (body instanceof ReadableStream) init.duplex = "half";
  const response = await http.fetchRaw("POST", "/v1/files", http.url("/v1/files", { name }), init, opts.signal);
  if (!response.ok) throw await errorFromResponse(response);
  const parsed = UploadFileResponse.safeParse(await response.json());
  if (!parsed.success) throw new ProtocolError("POST /v1/files answered a body that does not match the protocol");
  return parsed.data;
}

/** Uploads each file and returns them as job inputs. */
export async function uploadInputs(http: HttpTransport, files: readonly JobFile[], opts: TransferOptions = {}) {
  const inputs: FileRef[] = [];
  for (const f of files) {
    const name = f.name ?? (typeof f.source === "string" ? baseName(f.source) : undefined);
    if (!name) throw new TypeError("a file given as bytes or a stream needs a name");
    const stored = await uploadFile(http, f.source, name, opts);
    inputs.push({ name, hash: stored.hash, size: stored.size });
  }
  return inputs;
}

export async function listJobFiles(http: HttpTransport, id: string, signal?: AbortSignal) {
  const { files } = await http.request({
    method: "GET",
    path: `/v1/jobs/${encodeURIComponent(id)}/files`,
    schema: ListJobFilesResponse,
    retryable: true,
    signal,
  });
  return files;
}

/**
 * Streams one output file to `dest` (a path; Node only), written to `dest.part` and renamed when
 * complete and its sha256 matches the server's ETag.
 */
export async function downloadJobFile(
  http: HttpTransport,
  id: string,
  name: string,
  dest: string,
  opts: TransferOptions = {},
): Promise<{ path: string; size: number; hash: string }> {
  const path = `/v1/jobs/${encodeURIComponent(id)}/files/${encodeURIComponent(name)}`;
  const response = await http.stream(path, {}, opts.signal);
  const [{ createWriteStream }, { rename, rm }, { Readable, Transform }, { pipeline }, { createHash }] =
    await Promise.all([
      import("node:fs"),
      import("node:fs/promises"),
      import("node:stream"),
      import("node:stream/promises"),
      import("node:crypto"),
    ]);
  const total = Number(response.headers.get("content-length") ?? Number.NaN);
  const hasher = createHash("sha256");
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      hasher.update(chunk);
      opts.onProgress?.({ bytes, total: Number.isFinite(total) ? total : undefined });
      done(null, chunk);
    },
  });
  const part = `${dest}.part`;
  try {
    // Web → Node stream bridge: the DOM and Node ReadableStream types differ only in their typings.
    const body = response.body as unknown as import("node:stream/web").ReadableStream<Uint8Array>;
    await pipeline(Readable.fromWeb(body), meter, createWriteStream(part));
    const hash = hasher.digest("hex");
    const etag = response.headers.get("etag")?.replaceAll('"', "");
    if (etag && etag !== hash) throw new ProtocolError(`${name}: downloaded bytes hash to ${hash}, not ${etag}`);
    await rename(part, dest);
    return { path: dest, size: bytes, hash };
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

async function bodyOf(
  source: FileSource,
  onProgress: TransferOptions["onProgress"],
): Promise<{ body: BodyInit; total: number | undefined }> {
  let blob: Blob | undefined;
  if (typeof source === "string") {
    const { openAsBlob } = await import("node:fs");
    blob = await openAsBlob(source);
  } else if (source instanceof Blob) blob = source;
  else if (source instanceof Uint8Array) blob = new Blob([source as Uint8Array<ArrayBuffer>]);
  const total = blob?.size;
  if (blob && !onProgress) return { body: blob, total };
  const stream = blob
    ? blob.stream()
    : source instanceof ReadableStream
      ? source
      : fromIterable(source as AsyncIterable<Uint8Array>);
  if (!onProgress) return { body: stream, total };
  let bytes = 0;
  const counted = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.length;
        onProgress({ bytes, total });
        controller.enqueue(chunk);
      },
    }),
  );
  return { body: counted, total };
}

function fromIterable(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
