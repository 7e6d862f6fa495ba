import type { HlsVariantName } from "@gantry/protocol";

export interface Rendition {
  name: HlsVariantName;
  width: number;
  height: number;
  /** Video bits per second (peak is capped at 107% of it). */
  videoBitrate: number;
}

/** Video bitrates per height, after Apple's HLS authoring ladder (H.264, 30 fps), rounded. */
const LADDER: Record<HlsVariantName, { height: number; videoBitrate: number }> = {
  "240p": { height: 240, videoBitrate: 400_000 },
  "360p": { height: 360, videoBitrate: 800_000 },
  "480p": { height: 480, videoBitrate: 1_400_000 },
  "720p": { height: 720, videoBitrate: 2_800_000 },
  "1080p": { height: 1080, videoBitrate: 5_000_000 },
};

/**
 * The renditions to encode: those the source is tall enough for, smallest first, never upscaled.
 * When none fit, the smallest requested is kept at the source's own height so there is always one.
 */
export function planLadder(requested: HlsVariantName[], source: { width: number; height: number }): Rendition[] {
  const names = [...new Set(requested)].sort((a, b) => LADDER[a].height - LADDER[b].height);
  const fitting = names.filter((n) => LADDER[n].height <= source.height);
  const chosen = fitting.length > 0 ? fitting : names.slice(0, 1);
  return chosen.map((name) => {
    const height = even(Math.min(LADDER[name].height, source.height));
    return {
      name,
      height,
      width: even((source.width * height) / source.height),
      videoBitrate: LADDER[name].videoBitrate,
    };
  });
}

/** H.264 in 4:2:0 needs even dimensions. */
function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}
