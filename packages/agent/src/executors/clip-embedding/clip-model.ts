import type { EmbeddingModel } from "../image-embedding/embedding-model.ts";
import { CLIP_PREPROCESS } from "../image-embedding/preprocess.ts";

/** CLIP ViT-B/32 image tower (`CLIPVisionModelWithProjection` export): `image_embeds` [1, 512]. */
export const CLIP_MODEL: EmbeddingModel = {
  capability: "clip_embedding",
  file: "clip_embedding.onnx",
  dim: 512,
  preprocess: CLIP_PREPROCESS,
  preferredOutputs: ["image_embeds", "embeddings"],
};
