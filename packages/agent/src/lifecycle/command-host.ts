import type { CommandHost } from "../commands/command-handler.ts";
import type { DetectedExecutor } from "../runner/worker-messages.ts";
import type { WorkerPool } from "../runner/worker-pool.ts";
import type { ControlLoop } from "./control-loop.ts";
import { detectedCapabilities, mergeCapabilities } from "./detect-executors.ts";

export interface CommandHostDeps {
  loop: () => ControlLoop;
  pool: WorkerPool;
  /** Shared with the runner: a rescan updates it in place. */
  executors: Set<string>;
  givenCaps: string[];
  stopping(): boolean;
  diagnostics(): Promise<unknown>;
  restart(): void;
}

/** What signed server commands act on. */
export function commandHost(d: CommandHostDeps): CommandHost {
  return {
    drain: () => d.loop().drain(),
    resume: () => {
      if (d.stopping()) throw new Error("the agent is shutting down");
      d.loop().resume();
    },
    update: (p) => d.loop().setProfile(p),
    rescan: async () => applyDetected(d, await d.pool.detect()),
    diagnostics: d.diagnostics,
    restart: d.restart,
  };
}

/** What detection found becomes what the agent runs and offers (the server hears at once). */
export function applyDetected(d: CommandHostDeps, detected: DetectedExecutor[]): string[] {
  const found = detected.filter((x) => x.detected);
  d.executors.clear();
  for (const x of found) d.executors.add(x.name);
  const merged = mergeCapabilities(detectedCapabilities(found), d.givenCaps);
  d.loop().setProfile({ capabilities: merged });
  return merged;
}
