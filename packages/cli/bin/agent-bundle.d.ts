/** The bundle `gantry agent` runs, or null when the sources must run (see agent-bundle.js). */
export function agentBundle(env?: NodeJS.ProcessEnv): string | null;
