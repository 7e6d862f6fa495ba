import assert from "node:assert/strict";
import { test } from "node:test";
import { unrunnableCapabilities } from "./check-capabilities.ts";
import type { DetectedExecutor } from "./worker-messages.ts";

const detected: DetectedExecutor[] = [
  { name: "debug.echo", executor: "debug.echo", attributes: [], detected: true, module: "m1" },
  { name: "shell.bash", executor: "shell.bash", attributes: [], detected: false, module: "m2", problem: "off" },
];

test("capabilities an available executor serves pass, attributes or not", () => {
  assert.equal(unrunnableCapabilities(["debug.echo", "debug.echo[fast]"], detected), null);
  assert.equal(unrunnableCapabilities([], detected), null);
});

test("an unavailable or unknown capability is named with why, and what can run is listed", () => {
  const msg = unrunnableCapabilities(["shell.bash[x]", "llm.none"], detected);
  assert.equal(
    msg,
    "No executor on this machine can run shell.bash[x] (off); llm.none (no executor serves it). What can run here: debug.echo.",
  );
});
