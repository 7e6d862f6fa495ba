import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/*
 * Test scenes composed from the photo that ships in face-api's own demo (`demo/sample1.jpg`,
 * 1920×1280, three people). Regions are in that photo's pixels, each a little larger than the face.
 */
const require = createRequire(import.meta.url);
export const SAMPLE = join(dirname(require.resolve("@vladmandic/face-api/package.json")), "demo", "sample1.jpg");

export const PEOPLE = {
  left: { left: 320, top: 260, width: 420, height: 420 },
  right: { left: 1380, top: 100, width: 420, height: 440 },
} as const;

export interface Placement {
  person: keyof typeof PEOPLE;
  x: number;
  y: number;
  scale?: number;
}

/** People's heads pasted onto a plain grey canvas; returns where each one landed. */
export async function composeScene(path: string, placements: Placement[], canvas = { width: 1000, height: 1000 }) {
  const { default: sharp } = await import("sharp");
  const regions: { x: number; y: number; width: number; height: number }[] = [];
  const layers = [];
  for (const { person, x, y, scale = 1 } of placements) {
    const width = Math.round(PEOPLE[person].width * scale);
    const height = Math.round(PEOPLE[person].height * scale);
    const head = await sharp(SAMPLE).extract(PEOPLE[person]).resize(width, height).png().toBuffer();
    layers.push({ input: head, left: x, top: y });
    regions.push({ x, y, width, height });
  }
  await sharp({ create: { ...canvas, channels: 3, background: "#7a7a7a" } })
    .composite(layers)
    .jpeg({ quality: 92 })
    .toFile(path);
  return regions;
}
