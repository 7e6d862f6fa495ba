import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_EXECUTORS } from "../executors/builtin-executors.ts";
import type { FromWorker, ToWorker } from "./worker-messages.ts";
import { WorkerPool } from "./worker-pool.ts";

const module = (src: string) => `data:text/javascript,${encodeURIComponent(src)}`;

const MODULES = [
  module(`export default { name: "t.echo", detect: () => true, run: async (job) => job.payload }`),
  module(`export default { name: "t.wait", detect: () => true,
    run: (job) => new Promise((r) => setTimeout(() => r(job.payload), Number(job.payload))) }`),
  // Ends its own thread, as a crashing native library would.
  module(`export default { name: "t.exit", detect: () => true, run: async () => process.exit(3) }`),
];

type Done = Extract<FromWorker, { t: "done" }> | { t: "lost"; reason: string };

function runJob(pool: WorkerPool, name: string, payload: unknown, id = `${name}-${Math.random()}`): Promise<Done> {
  const msg: Extract<ToWorker, { t: "run" }> = {
    t: "run",
    id,
    name,
    capability: name,
    payload,
    inputs: [],
    attempt: 1,
    inputPaths: {},
    outputDir: "",
    workDir: "",
  };
  return new Promise((resolve) =>
    pool.run(msg, {
      onMessage: (m) => m.t === "done" && resolve(m),
      onLost: (reason) => resolve({ t: "lost", reason }),
    }),
  );
}

// The pool's threads are unref'd (they never keep an agent alive); this keeps the test's loop alive.
const keepAlive = setInterval(() => {}, 1000);
test.after(() => clearInterval(keepAlive));

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

test("warm(): the detecting thread is kept, and stays however long the pool is idle", async () => {
  const pool = new WorkerPool(2, MODULES, undefined, 50);
  try {
    const found = await pool.warm();
    assert.deepEqual(
      found.map((d) => `${d.name} ${d.detected}`),
      ["t.echo true", "t.wait true", "t.exit true"],
    );
    assert.equal(pool.size, 1);
    assert.deepEqual(await runJob(pool, "t.echo", 7, "j1"), { t: "done", id: "j1", ok: true, output: 7, made: false });
    // Two at once: the second starts a thread; after idleMs it is ended, the warm one is kept.
    const [a, b] = await Promise.all([runJob(pool, "t.wait", 30), runJob(pool, "t.wait", 30)]);
    assert.equal(a.t === "done" && a.ok, true);
    assert.equal(b.t === "done" && b.ok, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
});

test("a warm thread that dies is started again, and the next job runs", async () => {
  const replaced: string[] = [];
  const pool = new WorkerPool(1, MODULES, (reason) => replaced.push(reason), 50);
  try {
    await pool.warm();
    const lost = await runJob(pool, "t.exit", null);
    assert.equal(lost.t, "lost");
    assert.equal(replaced.length, 1);
    await until(() => pool.size === 1);
    const next = await runJob(pool, "t.echo", "again");
    assert.equal(next.t === "done" && next.ok && next.output, "again");
  } finally {
    await pool.close();
  }
});

test("a built-in light executor (debug.echo) runs on the control thread: it answers while the only thread spins", async () => {
  const echo = BUILTIN_EXECUTORS.find((m) => m.endsWith("/debug/echo.ts"))!;
  const spin = module(`export default { name: "t.spin", detect: () => true, run: async () => { for (;;); } }`);
  // A plugin that calls itself light is not trusted with the control thread.
  const fake = module(
    `export default { name: "t.fake", light: true, detect: () => true, run: async (j) => j.payload }`,
  );
  const pool = new WorkerPool(1, [echo, spin, fake], undefined, 60_000);
  try {
    const found = await pool.warm();
    assert.deepEqual(
      found.map((d) => `${d.name} ${d.light === true}`),
      ["debug.echo true", "t.spin false", "t.fake false"],
    );
    void runJob(pool, "t.spin", null);
    await new Promise((r) => setTimeout(r, 100)); // the thread is now stuck in the loop
    const done = await runJob(pool, "debug.echo", { x: 1 }, "e1");
    assert.deepEqual(done, { t: "done", id: "e1", ok: true, output: { x: 1 }, made: false });
  } finally {
    await pool.close(200);
  }
});
