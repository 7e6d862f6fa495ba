import { join } from "node:path";
import type { DetectedFace, FaceDetectionOutput, FaceDetectionPayload } from "@gantry/protocol";
import { decode, openImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";
import { findFaces } from "./find-faces.ts";

/** Boxes, confidences and 68 landmarks per face, and each face cropped to `face_detection_<n>.jpg`. */
export async function detectFaces(
  input: { path: string },
  params: FaceDetectionPayload,
  io: PluginIO,
): Promise<PluginResult<FaceDetectionOutput>> {
  io.progress(0, "loading models");
  const opened = await openImage(input.path);
  io.progress(20, "detecting");
  const found = await findFaces(opened, params);
  io.signal.throwIfAborted();
  io.progress(70, "cropping");
  const faces: DetectedFace[] = [];
  for (const [i, face] of found.entries()) {
    const crop_path = `face_detection_${i}.jpg`;
    const left = Math.max(0, Math.floor(face.box.x));
    const top = Math.max(0, Math.floor(face.box.y));
    const width = Math.max(1, Math.min(opened.width - left, Math.ceil(face.box.x + face.box.width) - left));
    const height = Math.max(1, Math.min(opened.height - top, Math.ceil(face.box.y + face.box.height) - top));
    await decode(() =>
      opened.image
        .clone()
        .extract({ left, top, width, height })
        .jpeg({ quality: 90 })
        .toFile(join(io.outputDir, crop_path)),
    );
    faces.push({ box: face.box, confidence: face.confidence, landmarks: face.landmarks, crop_path });
  }
  io.progress(100, "done");
  return {
    output: { width: opened.width, height: opened.height, faces },
    files: faces.map((f) => f.crop_path),
  };
}
