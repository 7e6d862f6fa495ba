/**
 * What a user or key may do. `admin` implies every other permission and sees every owner's jobs,
 * files and events; the rest are limited to the caller's own.
 */
export const PERMISSIONS = [
  "admin",
  "jobs:read",
  "jobs:write",
  "agents:read",
  "agents:manage",
  "keys:manage",
  "files:write",
] as const;
export type PermissionName = (typeof PERMISSIONS)[number];

/**
 * Does a capability base name match one of the patterns? A pattern is a base name (`ocr.tesseract`)
 * or a prefix ending in `*` (`llm.*`, `*`). `null` patterns: anything.
 */
export function capabilityAllowed(patterns: readonly string[] | null, name: string): boolean {
  if (patterns === null) return true;
  return patterns.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
}
