import { GantryError } from "@gantry/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BlobStore } from "./blob-store.ts";

/** A single byte range, inclusive; null when the header asks for none we honour (then: the whole file). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Multiple ranges or other units: RFC 9110 lets a server ignore Range and send the whole file.
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return null; // syntactically invalid: ignored
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): GantryError {
  return new GantryError("file_range_not_satisfiable", `The file has ${size} bytes.`, { size });
}

/**
 * Streams one blob with Content-Length, a strong ETag (the hash: the bytes can never change under it),
 * If-None-Match (304), Range (206, or 416 with Content-Range: bytes *\/size) and If-Range.
 */
export async function sendBlob(
  blobs: BlobStore,
  request: FastifyRequest,
  reply: FastifyReply,
  file: { hash: string; name: string },
): Promise<FastifyReply> {
  const size = await blobs.size(file.hash);
  if (size === undefined) throw new GantryError("file_not_found", "The file's bytes are no longer stored.");
  const etag = `"${file.hash}"`;
  reply.header("etag", etag);
  reply.header("accept-ranges", "bytes");
  reply.header("cache-control", "private, max-age=31536000, immutable");
  reply.header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`);
  if (request.headers["if-none-match"]?.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    return reply.status(304).send();
  }
  const ifRange = request.headers["if-range"];
  let range: { start: number; end: number } | null = null;
  if (ifRange === undefined || ifRange === etag) {
    try {
      range = parseRange(request.headers.range, size);
    } catch (err) {
      reply.header("content-range", `bytes */${size}`);
      throw err;
    }
  }
  reply.type("application/octet-stream");
  if (range) {
    reply.status(206);
    reply.header("content-range", `bytes ${range.start}-${range.end}/${size}`);
    reply.header("content-length", range.end - range.start + 1);
    return reply.send(size === 0 ? "" : blobs.read(file.hash, range));
  }
  reply.header("content-length", size);
  return reply.send(size === 0 ? "" : blobs.read(file.hash));
}
