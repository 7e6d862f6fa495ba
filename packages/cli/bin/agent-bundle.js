// Which file `gantry agent` runs: the bundle that scripts/bundle-agent.mjs builds at `npm install`,
// when it is there and newer than every source it was built from; else null (the sources run, so an
// edit is never shadowed by a stale bundle). GANTRY_AGENT_SOURCES=1 always runs the sources.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packages = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BUNDLE = join(packages, "cli", "dist", "gantry-agent.mjs");
const SOURCES = ["agent", "cli", "protocol"].map((p) => join(packages, p, "src"));

/** The bundle's path, or null when the sources must run. */
export function agentBundle(env = process.env) {
  if (env.GANTRY_AGENT_SOURCES === "1") return null;
  let built;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    return null;
  }
  for (const dir of SOURCES) {
    for (const file of readdirSync(dir, { recursive: true })) {
      if (file.endsWith(".ts") && statSync(join(dir, file)).mtimeMs > built) return null;
    }
  }
  return BUNDLE;
}
