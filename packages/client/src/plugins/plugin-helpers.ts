import { type Job, PLUGINS, type PluginCapability, type PluginOutput, type PluginPayload } from "@gantry/protocol";
import type { FileSource } from "../file-transfer.ts";
import type { GantryClient, SubmitJobOptions } from "../gantry-client.ts";

/** A finished or submitted plugin job, its output typed from the protocol's plugin table. */
export type PluginJob<C extends PluginCapability> = Omit<Job, "output"> & { output?: PluginOutput<C> };

/** Options of a plugin helper: submit's options, plus the input file's name (default: the path's last segment, or "input"). */
export interface PluginCallOptions extends Omit<SubmitJobOptions, "files"> {
  fileName?: string | undefined;
}

/** One helper call: uploads `input`, submits the plugin job, returns it (or, with `wait`, the finished job). */
export type PluginCall<C extends PluginCapability> = (
  input: FileSource,
  payload?: PluginPayload<C>,
  opts?: PluginCallOptions,
) => Promise<PluginJob<C>>;

function call<C extends PluginCapability>(client: GantryClient, capability: C): PluginCall<C> {
  return async (input, payload, opts = {}) => {
    const { fileName, ...rest } = opts;
    const name = fileName ?? (typeof input === "string" ? input.split(/[\\/]/).pop() : undefined) ?? "input";
    // Validate here with the same schema the server uses, so a bad payload fails before the upload.
    const checked = PLUGINS[capability].payload.parse(payload ?? {}) as Record<string, unknown>;
    const job = await client.submit(capability, checked, { ...rest, files: [{ source: input, name }] });
    if (job.output !== undefined && job.status === "completed")
      return { ...job, output: PLUGINS[capability].output.parse(job.output) as PluginOutput<C> };
    return job as PluginJob<C>;
  };
}

/** The CL client's plugin helpers, camelCased (`client.clip_embedding.embed_image` → `plugins.clipEmbedding.embedImage`). */
export function pluginHelpers(client: GantryClient) {
  return {
    clipEmbedding: { embedImage: call(client, "clip_embedding") },
    dinoEmbedding: { embedImage: call(client, "dino_embedding") },
    exif: { extract: call(client, "exif") },
    hash: { compute: call(client, "hash") },
    faceDetection: { detect: call(client, "face_detection") },
    faceEmbedding: { embedFaces: call(client, "face_embedding") },
    hlsStreaming: { generateManifest: call(client, "hls_streaming") },
    imageConversion: { convert: call(client, "image_conversion") },
    mediaThumbnail: { generate: call(client, "media_thumbnail") },
  } as const;
}
export type PluginHelpers = ReturnType<typeof pluginHelpers>;
