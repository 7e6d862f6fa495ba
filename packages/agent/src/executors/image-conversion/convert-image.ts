import { join } from "node:path";
import type { ImageConversionOutput, ImageConversionPayload, ImageFormat } from "@gantry/protocol";
import type { Sharp } from "sharp";
import { decode, streamImage } from "../shared/image-source.ts";
import type { PluginIO, PluginResult } from "../shared/plugin-io.ts";

/** Re-encodes one image (orientation applied, metadata dropped) as `image_conversion.<format>`. */
export async function convertImage(
  input: { path: string },
  params: ImageConversionPayload,
  io: PluginIO,
): Promise<PluginResult<ImageConversionOutput>> {
  io.progress(0, "reading");
  const image = await streamImage(input.path);
  io.signal.throwIfAborted();
  io.progress(20, "converting");
  const name = `image_conversion.${params.output_format}`;
  const target = join(io.outputDir, name);
  const info = await decode(() => encode(image, params.output_format, params.quality).toFile(target), input.path);
  io.progress(100, "done");
  return {
    output: {
      width: info.width,
      height: info.height,
      format: params.output_format,
      size: info.size,
      output_path: name,
    },
    files: [name],
  };
}

/** png and tiff are lossless here (quality ignored); jpg has no alpha, so it is flattened onto white. */
function encode(image: Sharp, format: ImageFormat, quality: number): Sharp {
  switch (format) {
    case "jpg":
      return image.flatten({ background: "#ffffff" }).jpeg({ quality });
    case "png":
      return image.png();
    case "webp":
      return image.webp({ quality });
    case "avif":
      return image.avif({ quality });
    case "tiff":
      return image.tiff({ compression: "lzw" });
  }
}
