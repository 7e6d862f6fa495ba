import { join } from "node:path";
import type { ImageEmbeddingOutput, ImageEmbeddingPayload } from "@gantry/protocol";
import { openImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { writeNpy } from "../shared/write-npy.ts";
import type { EmbeddingModel } from "./embedding-model.ts";
import { openSession, runEmbedding } from "./onnx-session.ts";
import { preprocess } from "./preprocess.ts";

/** One image → the model's embedding, in the output JSON and as `<capability>.npy`. */
export async function embedImage(
  input: { path: string },
  _params: ImageEmbeddingPayload,
  model: EmbeddingModel,
  modelsDir: string,
  io: PluginIO,
): Promise<PluginResult<ImageEmbeddingOutput>> {
  io.progress(0, "loading model");
  const session = await openSession(join(modelsDir, model.file));
  io.signal.throwIfAborted();
  io.progress(20, "preprocessing");
  const { image, width, height } = await openImage(input.path);
  const tensor = await preprocess(image, width, height, model.preprocess);
  io.signal.throwIfAborted();
  io.progress(50, "inference");
  const vector = await runEmbedding(session, model, tensor);
  io.progress(90, "writing");
  const name = `${model.capability}.npy`;
  await writeNpy(join(io.outputDir, name), vector, [vector.length]);
  io.progress(100, "done");
  return {
    output: { embedding: Array.from(vector), embedding_dim: vector.length, output_path: name, model: model.file },
    files: [name],
  };
}
