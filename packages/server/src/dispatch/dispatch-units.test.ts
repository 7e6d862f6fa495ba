import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentLink } from "./agent-link.ts";
import { slotsFor } from "./dispatcher.ts";

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
