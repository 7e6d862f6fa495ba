import { join } from "node:path";
import type { FaceEmbeddingOutput, FaceEmbeddingPayload } from "@gantry/protocol";
import { findFaces } from "../face-detection/find-faces.ts";
import { openImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { writeNpy } from "../shared/write-npy.ts";

const DIM = 128;
const NAME = "face_embedding.npy";

/** One 128-d descriptor per detected face, with its box; all of them as a [faces, 128] `.npy`. */
export async function embedFaces(
  input: { path: string },
  params: FaceEmbeddingPayload,
  io: PluginIO,
): Promise<PluginResult<FaceEmbeddingOutput>> {
  io.progress(0, "loading models");
  const opened = await openImage(input.path);
  io.progress(20, "detecting");
  const found = await findFaces(opened, params);
  io.signal.throwIfAborted();
  io.progress(80, "writing");
  const faces = found.map((f) => ({ box: f.box, confidence: f.confidence, embedding: Array.from(f.descriptor) }));
  let files: string[] = [];
  if (faces.length > 0) {
    const matrix = new Float32Array(faces.length * DIM);
    found.forEach((f, i) => {
      matrix.set(f.descriptor, i * DIM);
    });
    await writeNpy(join(io.outputDir, NAME), matrix, [faces.length, DIM]);
    files = [NAME];
  }
  io.progress(100, "done");
  return { output: { embedding_dim: DIM, faces, output_path: files[0] ?? null }, files };
}
