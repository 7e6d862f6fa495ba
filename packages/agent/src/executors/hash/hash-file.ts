import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { HashOutput, HashPayload } from "@gantry/protocol";
import { streamImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { dHash, pHash } from "./perceptual-hash.ts";

/** Content digests of the bytes (streamed, never held whole) plus perceptual hashes of the picture. */
export async function hashFile(
  input: { path: string },
  _params: HashPayload,
  io: PluginIO,
): Promise<PluginResult<HashOutput>> {
  io.progress(0, "reading");
  const image = await streamImage(input.path);
  io.progress(10, "hashing");
  // The digests read the file while libvips decodes it on its own threads.
  const [digests, phash, dhash] = await Promise.all([
    digest(input.path, io.signal),
    pHash(image, input.path),
    dHash(image, input.path),
  ]);
  io.progress(100, "done");
  return { output: { phash, dhash, ...digests }, files: [] };
}

async function digest(path: string, signal: AbortSignal): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  for await (const chunk of createReadStream(path, { signal })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { md5: md5.digest("hex"), sha256: sha256.digest("hex") };
}
