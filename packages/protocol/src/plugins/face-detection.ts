import { z } from "zod";

/** `face_detection` and `face_embedding`: detector threshold and face limit. */
export const FaceDetectionPayload = z.object({
  min_confidence: z.number().min(0.05).max(1).default(0.5),
  max_faces: z.number().int().min(1).max(100).default(20),
});
export type FaceDetectionPayload = z.infer<typeof FaceDetectionPayload>;

/** Pixels of the (orientation-corrected) input image. */
export const FaceBox = z.object({
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
});
export type FaceBox = z.infer<typeof FaceBox>;

export const DetectedFace = z.object({
  box: FaceBox,
  confidence: z.number(),
  /** The 68 iBUG landmark points, `[x, y]` in input pixels. */
  landmarks: z.array(z.tuple([z.number(), z.number()])),
  /** File name of this face's crop, e.g. `face_detection_0.jpg`. */
  crop_path: z.string(),
});
export type DetectedFace = z.infer<typeof DetectedFace>;

export const FaceDetectionOutput = z.object({
  width: z.number().int(),
  height: z.number().int(),
  faces: z.array(DetectedFace),
});
export type FaceDetectionOutput = z.infer<typeof FaceDetectionOutput>;
