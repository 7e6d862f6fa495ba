import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { HashOutput, HashPayload } from "@gantry/protocol";
import { openImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { dHash, pHash } from "./perceptual-hash.ts";

/** Content digests of the bytes (streamed, never held whole) plus perceptual hashes of the picture. */
export async function hashFile(
  input: { path: string },
  _params: HashPayload,
  io: PluginIO,
): Promise<PluginResult<HashOutput>> {
  io.progress(0, "reading");
  const { image } = await openImage(input.path);
  io.progress(10, "digest");
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  for await (const chunk of createReadStream(input.path, { signal: io.signal })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  io.progress(50, "perceptual");
  const [phash, dhash] = [await pHash(image), await dHash(image)];
  io.progress(100, "done");
  return { output: { phash, dhash, md5: md5.digest("hex"), sha256: sha256.digest("hex") }, files: [] };
}
