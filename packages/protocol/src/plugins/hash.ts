import { z } from "zod";

/** `hash`: no parameters. */
export const HashPayload = z.object({}).loose();
export type HashPayload = z.infer<typeof HashPayload>;

const Hex64 = z.string().regex(/^[0-9a-f]{16}$/, "64-bit hex");

export const HashOutput = z.object({
  /** DCT perceptual hash (32×32 luma, top-left 8×8 against their median). Compare by Hamming distance. */
  phash: Hex64,
  /** Difference hash (9×8 luma, left > right). Compare by Hamming distance. */
  dhash: Hex64,
  /** Of the file bytes. */
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type HashOutput = z.infer<typeof HashOutput>;
