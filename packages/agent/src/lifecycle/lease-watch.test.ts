import assert from "node:assert/strict";
import { test } from "node:test";
import type { HeldJob } from "@gantry/protocol";
import { HeartbeatLoop } from "./heartbeat-loop.ts";
import { LeaseWatch } from "./lease-watch.ts";

const A = { jobId: "01J000000000000000000000AA", epoch: 1 };
const B = { jobId: "01J000000000000000000000BB", epoch: 2 };

function setup() {
  const held: HeldJob[] = [A, B];
  const lapsed: string[] = [];
  const leases = new LeaseWatch({ held: () => held, lapsed: (j) => lapsed.push(j.jobId) });
  const sent: Array<{ seq?: number; running: HeldJob[] }> = [];
  const beats = new HeartbeatLoop({
    leases,
    compose: () => ({ type: "heartbeat", status: "busy", running: [...held] }),
    send: (hb) => sent.push(hb),
  });
  return { held, lapsed, leases, beats, sent };
}

test("the lease clock waits for the first heartbeat:ack on a link (old servers never send one)", () => {
  const { lapsed, leases } = setup();
  leases.welcomed(1, [A, B], 1000);
  leases.check(1_000_000);
  assert.deepEqual(lapsed, []);
  leases.stop();
});

test("an acked heartbeat confirms the leases it listed as of its send time; drop is returned; silence lapses", () => {
  const { lapsed, leases, beats, sent } = setup();
  const t0 = Date.now();
  leases.welcomed(5, [A, B], t0 - 1000); // the hello went out a second before
  beats.beat();
  beats.beat();
  assert.deepEqual(
    sent.map((h) => h.seq),
    [0, 1],
  );
  // The server answers the second heartbeat and says B is no longer ours.
  assert.deepEqual(beats.acked({ type: "heartbeat:ack", seq: 1, drop: [B] }), [B]);
  leases.check(t0 + 3900);
  assert.deepEqual(lapsed, []);
  // A was confirmed as of the heartbeat (≥ t0); B, not since the hello, lapses first.
  leases.check(t0 + 4500);
  assert.deepEqual(lapsed, ["01J000000000000000000000BB"]);
  leases.check(Date.now() + 5001);
  assert.deepEqual(lapsed, ["01J000000000000000000000BB", "01J000000000000000000000AA"]);
  leases.stop();
  beats.stop();
});

test("an ack without seq answers the oldest heartbeat still open", () => {
  const { lapsed, leases, beats } = setup();
  leases.welcomed(5, [], 0);
  beats.beat();
  beats.acked({ type: "heartbeat:ack", drop: [] });
  const now = Date.now();
  leases.check(now + 4000);
  assert.deepEqual(lapsed, []);
  leases.stop();
  beats.stop();
});
