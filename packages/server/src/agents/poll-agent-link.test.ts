import assert from "node:assert/strict";
import { test } from "node:test";
import type { AssignedJob } from "@gantry/protocol";
import { PollAgentLink } from "./poll-agent-link.ts";

const job = (id: string): AssignedJob => ({
  id,
  capability: "x",
  payload: {},
  inputs: [],
  epoch: 1,
  attempt: 1,
  runtimeSecs: null,
  leaseExpiresAt: new Date().toISOString(),
});

test("poll link: a delivery that finds no parked poll waits for the next poll", async () => {
  const l = new PollAgentLink("a");
  const first = l.park(1, 60_000);
  // The poll's client goes away just as a claim made for its slot completes.
  l.cancelPark();
  assert.deepEqual(await first, []);
  l.jobs.add("j1");
  l.deliver([job("j1")]);
  assert.deepEqual(
    (await l.park(1, 60_000)).map((j) => j.id),
    ["j1"],
  );
});

test("poll link: jobs put back after a failed answer go with the next poll, unless taken back", async () => {
  const l = new PollAgentLink("a");
  l.jobs.add("j1");
  l.jobs.add("j2");
  l.putBack([job("j1"), job("j2")]);
  l.jobs.delete("j2"); // requeued meanwhile (e.g. the heartbeat never listed it)
  assert.deepEqual(
    (await l.park(5, 60_000)).map((j) => j.id),
    ["j1"],
  );
});
