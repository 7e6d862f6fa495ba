import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/** `benchmark`: benchmarks from the agent's config file run without --allow-shell and report their metrics. */

let t: TestServer;
let agent: Agent;
const dir = tempDir("gantry-bench-");

before(async () => {
  t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 50, logLevel: "warn" });
  const configPath = join(dir.path, "agent.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      benchmarks: {
        "stdout-metrics": { command: `echo warming up; echo '{"tokens_per_sec": 42.5, "model": "tiny"}'` },
        "file-metrics": {
          command: `echo running; echo '{"latency_ms": [1, 2, 3]}' > "$GANTRY_METRICS_FILE"; echo '{"ignored": true}'`,
        },
        args: { argv: ["bash", "-c", `echo "{\\"args\\": \\"$*\\"}"`, "bench"] },
        failing: { command: "echo about to fail; exit 4" },
      },
    }),
  );
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath,
    dataDir: join(dir.path, "data"),
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  });
});

after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

const run = async (payload: unknown): Promise<Job> =>
  t.api.waitTerminal((await t.api.submit({ capability: "benchmark", maxAttempts: 1, payload })).id, 60_000);

const lines = async (id: string): Promise<string[]> =>
  (await t.api.call("GET", `/v1/jobs/${id}/logs`)).body.lines.map((l: { line: string }) => l.line);

test("benchmark is advertised from the config alone, and shell.bash is not (no --allow-shell)", () => {
  assert.ok(agent.capabilities.includes("benchmark"));
  assert.ok(!agent.capabilities.some((c) => c.startsWith("shell.bash")));
});

test("the metrics a benchmark prints as its last JSON line are in the output; its logs are streamed", async () => {
  const job = await run({ name: "stdout-metrics" });
  assert.equal(job.status, "completed", JSON.stringify(job.attempts));
  const out = job.output as { name: string; exitCode: number; metrics: unknown };
  assert.equal(out.name, "stdout-metrics");
  assert.equal(out.exitCode, 0);
  assert.deepEqual(out.metrics, { tokens_per_sec: 42.5, model: "tiny" });
  assert.deepEqual((await lines(job.id))[0], "warming up");
});

test("$GANTRY_METRICS_FILE wins over stdout; a job's args are appended to a configured argv", async () => {
  const file = await run({ name: "file-metrics" });
  assert.deepEqual((file.output as { metrics: unknown }).metrics, { latency_ms: [1, 2, 3] });
  const args = await run({ name: "args", args: ["--size", "7"] });
  assert.deepEqual((args.output as { metrics: unknown }).metrics, { args: "--size 7" });
});

test("an unknown benchmark, a failing one, and an arbitrary command without --allow-shell fail the job", async () => {
  const unknown = await run({ name: "nope" });
  assert.equal(unknown.status, "failed");
  assert.match(unknown.attempts.at(-1)!.error!.message, /no benchmark "nope".*stdout-metrics/);
  const failing = await run({ name: "failing" });
  assert.equal(failing.status, "failed");
  assert.match(failing.attempts.at(-1)!.error!.message, /exited with code 4/);
  const arbitrary = await run({ command: "echo hi" });
  assert.equal(arbitrary.status, "failed");
  assert.equal(arbitrary.attempts.at(-1)!.error!.category, "fatal");
  assert.match(arbitrary.attempts.at(-1)!.error!.message, /--allow-shell/);
});
