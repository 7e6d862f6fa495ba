import { z } from "zod";

/** `clip_embedding` and `dino_embedding`: no parameters. */
export const ImageEmbeddingPayload = z.object({}).loose();
export type ImageEmbeddingPayload = z.infer<typeof ImageEmbeddingPayload>;

/** The model's image embedding as it returns it (not re-normalised). */
export const ImageEmbeddingOutput = z.object({
  embedding: z.array(z.number()),
  embedding_dim: z.number().int(),
  /** `.npy` (float32, shape [embedding_dim]): `clip_embedding.npy` or `dino_embedding.npy`. */
  output_path: z.string(),
  /** The ONNX file the vector came from, relative to the models dir. */
  model: z.string(),
});
export type ImageEmbeddingOutput = z.infer<typeof ImageEmbeddingOutput>;
