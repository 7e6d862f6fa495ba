import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefixes make leaked credentials recognisable (secret scanning) and tell their role at a glance. */
export const KEY_PREFIX = { client: "gnt_c_", enrolment: "gnt_a_", agent: "gnt_k_", refresh: "gnt_r_" } as const;
export type KeyKind = keyof typeof KEY_PREFIX;

export function generateSecret(kind: KeyKind): string {
  return KEY_PREFIX[kind] + randomBytes(24).toString("base64url");
}

/**
 * Keys are 192-bit random strings, so a fast hash is enough at rest (no password stretching needed,
 * as for GitHub or Buildkite tokens); passwords use argon2 instead.
 */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The first characters of a key, safe to show in listings and logs. */
export function keyPrefix(secret: string): string {
  return secret.slice(0, 10);
}
