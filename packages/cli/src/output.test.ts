import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentView } from "@gantry/protocol";
import { formatAgents } from "./output.ts";

const agent: AgentView = {
  id: "a1",
  name: "host-1",
  displayName: null,
  capabilities: ["GENERAL_COMPUTE"],
  tier: 5,
  capacity: 1,
  online: true,
  status: "idle",
  transport: "ws",
  runningJobs: [],
  systemInfo: {},
  metrics: null,
  health: null,
  registeredAt: "2026-01-01T00:00:00.000Z",
  lastSeenAt: null,
  revokedAt: null,
};

test("gantry agents shows an OffloadMQ agent's displayName, else its name", () => {
  assert.match(formatAgents([{ ...agent, displayName: "Kitchen PC" }]), /Kitchen PC/);
  assert.match(formatAgents([agent]), /host-1/);
});
