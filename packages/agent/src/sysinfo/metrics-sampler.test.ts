import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { checkHealth, parseProcNetDev } from "./metrics-sampler.ts";

test("/proc/net/dev totals exclude loopback", () => {
  const text = fs.readFileSync(new URL("./fixtures/proc-net-dev.txt", import.meta.url), "utf8");
  assert.deepEqual(parseProcNetDev(text), { rx: 1003818712, tx: 52000700 });
});

test("health: a GPU that disappeared is an issue; low disk is a warning", () => {
  assert.deepEqual(checkHealth({ gpusAtStart: 2, gpusNow: 2, diskFreeMb: 50_000 }), {
    healthy: true,
    issues: [],
    warnings: [],
  });
  const lost = checkHealth({ gpusAtStart: 2, gpusNow: 1, diskFreeMb: 5000 });
  assert.equal(lost.healthy, false);
  assert.match(lost.issues[0]!, /GPU not detected/);
  assert.match(lost.warnings[0]!, /Low disk space/);
  assert.equal(checkHealth({ gpusAtStart: 0, gpusNow: null, diskFreeMb: null }).healthy, true);
});
