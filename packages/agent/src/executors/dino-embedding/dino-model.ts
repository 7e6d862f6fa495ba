import type { EmbeddingModel } from "../image-embedding/embedding-model.ts";
import { DINOV2_PREPROCESS } from "../image-embedding/preprocess.ts";

/** DINOv2 ViT-S/14 (`Dinov2Model` export): `pooler_output` [1, 384], or the CLS row of `last_hidden_state`. */
export const DINO_MODEL: EmbeddingModel = {
  capability: "dino_embedding",
  file: "dino_embedding.onnx",
  dim: 384,
  preprocess: DINOV2_PREPROCESS,
  preferredOutputs: ["pooler_output", "embeddings", "last_hidden_state"],
};
