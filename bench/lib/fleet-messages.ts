import type { ProtoAgentMode } from "./proto-agent.ts";

/** Argument of fleet-main.ts: one process running `count` protocol agents. */
export interface FleetConfig {
  url: string;
  agentKey: string;
  capability: string;
  capacity: number;
  count: number;
  mode: ProtoAgentMode;
  /** Registrations + connects in flight at once in this process. */
  concurrency: number;
}

/** Fleet process → bench parent (IPC). */
export type FleetToParent =
  | { type: "ready"; connected: number; failed: number; firstError: string | null; seconds: number }
  /** Running total of acknowledged completions and the wall time of the last one. */
  | { type: "progress"; completed: number; lastAt: number }
  | { type: "samples"; samples: number[] }
  | { type: "stats"; nacks: number; firstNack: unknown; closed: number };

/** Bench parent → fleet process (IPC). */
export type ParentToFleet = { type: "collect" } | { type: "stats" };
