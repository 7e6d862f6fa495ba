import assert from "node:assert/strict";
import { test } from "node:test";
import type { Executor } from "./executor.ts";
import { loadExecutors } from "./load-executors.ts";
import { DEFAULT_SETTINGS } from "./worker-pool.ts";

const module = (src: string) => `data:text/javascript,${encodeURIComponent(src)}`;

test("one entry per capability; attributes from the plugin and from detection; capabilities found by detection", async () => {
  const into = new Map<string, Executor>();
  const found = await loadExecutors(
    [
      module(`export default { name: "multi", capabilities: ["a.one", "a.two"], attributes: ["x"],
        detect: () => ({ available: true, attributes: ["os:test"] }), run: async () => 1 }`),
      module(`export default { name: "models", capabilities: ["llm.none"],
        detect: () => ({ available: true, capabilities: ["llm.tiny[gpu;ctx:256]", "llm.small", "Bad Name"] }),
        run: async () => 1 }`),
    ],
    DEFAULT_SETTINGS,
    into,
  );
  assert.deepEqual(
    found.map((d) => `${d.name}[${d.attributes.join(";")}] ${d.executor} ${d.detected}`),
    [
      "a.one[x;os:test] multi true",
      "a.two[x;os:test] multi true",
      "llm.tiny[gpu;ctx:256] models true",
      "llm.small[] models true",
    ],
  );
  assert.deepEqual([...into.keys()], ["a.one", "a.two", "llm.tiny", "llm.small"]);
});

test("unavailable, throwing, malformed and missing executors are reported with why, and not registered", async () => {
  const into = new Map<string, Executor>();
  const found = await loadExecutors(
    [
      module(
        `export default { name: "off", detect: () => ({ available: false, reason: "no GPU" }), run: async () => 1 }`,
      ),
      module(`export default { name: "boom", detect: () => { throw new Error("kaput"); }, run: async () => 1 }`),
      module(`export default { name: "odd", detect: () => 42, run: async () => 1 }`),
      module(`export default 7`),
      module(`export default { name: "fnCaps", capabilities: () => ["x"], detect: () => true, run: async () => 1 }`),
      module(`export default { name: "badAttrs", attributes: 5, detect: () => true, run: async () => 1 }`),
      "file:///nonexistent/executor.ts",
    ],
    DEFAULT_SETTINGS,
    into,
  );
  assert.deepEqual([...into.keys()], ["fnCaps"]);
  assert.deepEqual(found[0]!.problem, "no GPU");
  assert.match(found[1]!.problem!, /detect\(\) failed: kaput/);
  assert.match(found[2]!.problem!, /neither a boolean nor a detection/);
  assert.equal(found[3]!.problem, "no default executor export");
  // Capabilities that are not a list fall back to the name; attributes that are not a list make it unusable.
  assert.deepEqual([found[4]!.name, found[4]!.detected], ["fnCaps", true]);
  assert.match(found[5]!.problem!, /not a usable executor/);
  assert.ok(found[6]!.problem);
  assert.ok([0, 1, 2, 3, 5, 6].every((i) => !found[i]!.detected));
});
