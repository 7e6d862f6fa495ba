import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentLink } from "./agent-link.ts";
import { hasModelLoaded, slotsFor } from "./dispatcher.ts";

function link(agentId: string, tier: number, capacity: number, held = 0): AgentLink {
  return {
    jobs: new Set(Array.from({ length: held }, (_, i) => `job-${i}`)),
    stopping: new Map(),
    openedAt: process.hrtime.bigint(),
    agentId,
    transport: "ws",
    tier,
    capacity,
    capabilities: new Set(["x"]),
    reserved: 0,
    draining: false,
    open: true,
    session: 1,
    superseded: false,
    lastSeenAt: 0,
    acceptable: () => Number.POSITIVE_INFINITY,
    deliver: () => {},
    send: () => {},
    close: () => {},
  };
}

test("slots: high tiers first, agents of one tier take turns, full agents get none", () => {
  const slots = slotsFor([link("low", 1, 2), link("hiA", 9, 2), link("hiB", 9, 1), link("full", 9, 1, 1)]);
  assert.deepEqual(
    slots.map((l) => l.agentId),
    ["hiA", "hiB", "hiA", "low", "low"],
  );
});

test("slots: an agent that has missed heartbeats is offered nothing", () => {
  const stale = { ...link("stale", 9, 2), lastSeenAt: 1000 };
  const fresh = { ...link("fresh", 1, 1), lastSeenAt: 5000 };
  assert.deepEqual(
    slotsFor([stale, fresh], 2000).map((l) => l.agentId),
    ["fresh"],
  );
});

test("slots: inside a tier, agents with the job's model loaded come first; tier still wins", () => {
  const loaded = (agentId: string, tier: number, capacity: number, held: number, models: string[]): AgentLink => ({
    ...link(agentId, tier, capacity, held),
    heartbeat: { status: "idle", metrics: { loadedModels: models }, health: null, lastSeenAt: 0 },
  });
  const swapper = loaded("swapper", 5, 1, 0, ["llm.b"]);
  const warm = loaded("warm", 5, 2, 0, ["llm.a"]);
  const busyWarm = loaded("busy-warm", 5, 1, 1, ["llm.a"]);
  const high = loaded("high", 9, 1, 0, []);
  const ids = (prefer: (l: AgentLink) => boolean) =>
    slotsFor([swapper, warm, busyWarm, high], 0, prefer).map((l) => l.agentId);
  const a = (l: AgentLink) => hasModelLoaded(l, "llm.a");
  const b = (l: AgentLink) => hasModelLoaded(l, "llm.b");
  assert.deepEqual(ids(a), ["high", "warm", "warm", "swapper"]);
  assert.deepEqual(ids(b), ["high", "swapper", "warm", "warm"]);
  // A busy agent with the model is never waited for: the free ones still get every slot.
  assert.deepEqual(
    slotsFor([swapper, busyWarm], 0, a).map((l) => l.agentId),
    ["swapper"],
  );
});
