import { capabilityName } from "@gantry/protocol";
import type { DetectedExecutor } from "./worker-messages.ts";

/**
 * Capabilities given with `--caps` (or the config) that no available executor serves, as one message
 * naming them, why their executor is unavailable, and what can run here; null when all can run.
 */
export function unrunnableCapabilities(given: string[], detected: DetectedExecutor[]): string | null {
  const available = new Set(detected.filter((d) => d.detected).map((d) => d.name));
  const missing = given.filter((c) => !available.has(capabilityName(c)));
  if (missing.length === 0) return null;
  const why = missing.map((c) => {
    const d = detected.find((x) => x.name === capabilityName(c));
    return d ? `${c} (${d.problem ?? "unavailable"})` : `${c} (no executor serves it)`;
  });
  const can = [...available].sort().join(", ") || "nothing";
  return `No executor on this machine can run ${why.join("; ")}. What can run here: ${can}.`;
}
