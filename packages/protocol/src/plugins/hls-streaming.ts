import { z } from "zod";

/** A rendition by its height; widths follow the source's aspect ratio. */
export const HlsVariantName = z.enum(["240p", "360p", "480p", "720p", "1080p"]);
export type HlsVariantName = z.infer<typeof HlsVariantName>;

/** `hls_streaming`: one input video → an HLS ladder. */
export const HlsStreamingPayload = z.object({
  /** Renditions to make; ones taller than the source are skipped (the smallest is always kept). */
  variants: z.array(HlsVariantName).min(1).max(5).default(["360p", "720p"]),
  /** Target segment length. */
  segment_secs: z.number().int().min(1).max(30).default(4),
});
export type HlsStreamingPayload = z.infer<typeof HlsStreamingPayload>;

export const HlsVariant = z.object({
  name: HlsVariantName,
  width: z.number().int(),
  height: z.number().int(),
  /** Peak bits per second advertised in the master playlist. */
  bandwidth: z.number().int(),
  /** File name of the variant playlist, e.g. `hls_streaming_360p.m3u8`. */
  playlist: z.string(),
  /** File names of its segments, in order. */
  segments: z.array(z.string()),
});
export type HlsVariant = z.infer<typeof HlsVariant>;

export const HlsStreamingOutput = z.object({
  /** File name of the master playlist: `hls_streaming.m3u8`. */
  output_path: z.string(),
  duration_secs: z.number(),
  variants: z.array(HlsVariant),
});
export type HlsStreamingOutput = z.infer<typeof HlsStreamingOutput>;
