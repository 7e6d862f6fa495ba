/** Set to true by packages/cli/scripts/bundle-agent.mjs (esbuild `define`); absent when running the sources. */
declare const __GANTRY_BUNDLED__: boolean | undefined;

/**
 * True in the bundle `gantry agent` runs (packages/cli/dist/): the worker and child entries are then
 * the bundled `agent-worker.mjs` and `agent-child.mjs` beside it, and files that are not bundled are
 * found in the sources relative to it.
 */
export const BUNDLED = typeof __GANTRY_BUNDLED__ !== "undefined" && __GANTRY_BUNDLED__ === true;

/** A file of the agent's sources (`sysinfo/x.ts`), from a source module or from the bundle. */
export function agentSourceUrl(fromSrc: string): URL {
  return BUNDLED ? new URL(`../../agent/src/${fromSrc}`, import.meta.url) : new URL(`../${fromSrc}`, import.meta.url);
}
