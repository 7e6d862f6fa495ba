import type { FaceBox, FaceDetectionPayload } from "@gantry/protocol";
import { ExecutorError } from "../../runner/executor.ts";
import { decode, type OpenedImage } from "../shared/image-source.ts";
import { loadFaceApi } from "./face-api-loader.ts";

/** Detection runs on at most this long a side: SSD sees 512×512 anyway, and a 100 MP tensor would be ~1 GB. */
const MAX_DETECT_SIDE = 1920;

export interface FoundFace {
  /** In the oriented input's pixels. */
  box: FaceBox;
  confidence: number;
  landmarks: [number, number][];
  descriptor: Float32Array;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Faces in an opened image, most confident first, in the input's own pixel coordinates. */
export async function findFaces(opened: OpenedImage, params: FaceDetectionPayload): Promise<FoundFace[]> {
  const faceapi = await loadFaceApi();
  const scale = Math.min(1, MAX_DETECT_SIDE / Math.max(opened.width, opened.height));
  const { data, info } = await decode(() =>
    opened.image
      .clone()
      .resize(Math.round(opened.width * scale), Math.round(opened.height * scale), { fit: "fill" })
      .removeAlpha()
      .toColourspace("srgb")
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const tensor = faceapi.tf.tensor3d(new Uint8Array(data.buffer, data.byteOffset, data.length), [
    info.height,
    info.width,
    3,
  ]);
  try {
    const options = new faceapi.SsdMobilenetv1Options({
      minConfidence: params.min_confidence,
      maxResults: params.max_faces,
    });
    const results = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceDescriptors();
    const back = (n: number) => round2(n / scale);
    return results
      .map((r) => ({
        box: {
          x: back(r.detection.box.x),
          y: back(r.detection.box.y),
          width: back(r.detection.box.width),
          height: back(r.detection.box.height),
        },
        confidence: Math.round(r.detection.score * 1e4) / 1e4,
        landmarks: r.landmarks.positions.map((p): [number, number] => [back(p.x), back(p.y)]),
        descriptor: r.descriptor,
      }))
      .sort((a, b) => b.confidence - a.confidence);
  } catch (err) {
    throw new ExecutorError("inference", `face detection failed: ${(err as Error).message}`);
  } finally {
    tensor.dispose();
  }
}
