import { z } from "zod";
import { FaceBox, FaceDetectionPayload } from "./face-detection.ts";

/** `face_embedding`: same parameters as detection. */
export const FaceEmbeddingPayload = FaceDetectionPayload;
export type FaceEmbeddingPayload = z.infer<typeof FaceEmbeddingPayload>;

export const FaceVector = z.object({
  box: FaceBox,
  confidence: z.number(),
  /** 128-d face descriptor (face-api recognition net); same person ⇔ Euclidean distance < ~0.6. */
  embedding: z.array(z.number()),
});
export type FaceVector = z.infer<typeof FaceVector>;

export const FaceEmbeddingOutput = z.object({
  embedding_dim: z.number().int(),
  faces: z.array(FaceVector),
  /** `.npy` of shape [faces, embedding_dim] (float32): `face_embedding.npy`; absent when no face. */
  output_path: z.string().nullable(),
});
export type FaceEmbeddingOutput = z.infer<typeof FaceEmbeddingOutput>;
