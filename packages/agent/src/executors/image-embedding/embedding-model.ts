import type { PreprocessSpec } from "./preprocess.ts";

/** What the models dir must hold for one embedding capability (see docs/plugins.md). */
export interface EmbeddingModel {
  capability: "clip_embedding" | "dino_embedding";
  /** ONNX file, relative to the models dir. */
  file: string;
  /** Length of the vector the model returns. */
  dim: number;
  preprocess: PreprocessSpec;
  /** Output names to take the vector from, in order of preference; else the first output. */
  preferredOutputs: readonly string[];
}
