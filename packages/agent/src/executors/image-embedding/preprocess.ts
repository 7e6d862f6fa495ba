import type { Sharp } from "sharp";
import { decode } from "../shared/image-source.ts";

/** A model's published image preprocessing: resize the short side, centre-crop, normalise per channel. */
export interface PreprocessSpec {
  /** The short side is resized (bicubic) to this, keeping the aspect ratio. */
  resizeShortest: number;
  /** Then a centred square of this side is cut out: the model's input size. */
  crop: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** OpenAI CLIP (ViT-B/32 and friends): 224 short side, 224 crop, CLIP's own constants. */
export const CLIP_PREPROCESS: PreprocessSpec = {
  resizeShortest: 224,
  crop: 224,
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** DINOv2 (HF `BitImageProcessor`): 256 short side, 224 crop, ImageNet constants. */
export const DINOV2_PREPROCESS: PreprocessSpec = {
  resizeShortest: 256,
  crop: 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/**
 * An oriented image → float32 NCHW `[1, 3, crop, crop]`. Alpha is dropped and grey is expanded to
 * RGB, as PIL's `convert("RGB")` does in the reference processors.
 */
export async function preprocess(image: Sharp, width: number, height: number, spec: PreprocessSpec) {
  const scale = spec.resizeShortest / Math.min(width, height);
  const w = Math.max(spec.crop, Math.round(width * scale));
  const h = Math.max(spec.crop, Math.round(height * scale));
  const left = Math.round((w - spec.crop) / 2);
  const top = Math.round((h - spec.crop) / 2);
  const { data, info } = await decode(() =>
    image
      .removeAlpha()
      .toColourspace("srgb")
      .resize(w, h, { fit: "fill", kernel: "cubic" })
      .extract({ left, top, width: spec.crop, height: spec.crop })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const plane = spec.crop * spec.crop;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      tensor[c * plane + i] = (data[i * info.channels + c]! / 255 - spec.mean[c]!) / spec.std[c]!;
    }
  }
  return { tensor, dims: [1, 3, spec.crop, spec.crop] };
}
