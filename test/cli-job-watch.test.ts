import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import type { Agent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { GANTRY, runGantry, serverWithShellAgent } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer } from "./helpers/test-server.ts";

const dir = tempDir("gantry-watch-");
let t: TestServer;
let agent: Agent;
let env: Record<string, string>;
before(async () => {
  ({ t, agent } = await serverWithShellAgent(dir.path, "watch-agent"));
  env = { GANTRY_URL: t.server.url, GANTRY_API_KEY: t.server.bootstrap.clientKey, HOME: dir.path };
});
after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

type Line = { transport?: string; event?: { type: string; progress?: { percent: number }; line?: string }; job?: Job };
const ndjson = (text: string): Line[] =>
  text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);

test("gantry job watch --json follows over MQTT: each progress report in order, then the finished job; exit 0", async () => {
  const job = await t.api.submit({ capability: "watch.raw" });
  const child = spawn(process.execPath, [GANTRY, "job", "watch", job.id, "--json"], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  await new Promise<void>((resolve) =>
    child.stdout.on("data", (d) => {
      stdout += d;
      if (stdout.includes("\n")) resolve();
    }),
  );
  // The watch is connected: now the job runs, on a raw agent that reports 30, 60 and completes.
  await sleep(500);
  const a = await t.agent({ capabilities: ["watch.raw"] });
  await a.connect();
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 30 } });
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 60, stage: "x" } });
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { answer: 42 } });
  assert.equal(await exited, 0, stderr);
  const lines = ndjson(stdout);
  assert.equal(lines[0]?.transport, "mqtt");
  const percents = lines.flatMap((l) => (l.event?.type === "progress" ? [l.event.progress!.percent] : []));
  assert.deepEqual(percents, [30, 60]);
  assert.equal(lines.filter((l) => l.job).length, 1, "the job once");
  assert.equal(lines.at(-1)?.job?.status, "completed");
  assert.deepEqual(lines.at(-1)?.job?.output, { answer: 42 });
  await a.close();
});

test("gantry job watch prints log lines once each and the result; a failed job exits 10", async () => {
  const job = await t.api.submit({
    capability: "shell.bash",
    payload: { command: "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo bad >&2; exit 3" },
    maxAttempts: 1,
  });
  const r = await runGantry(["job", "watch", job.id], env);
  assert.equal(r.code, 10, r.stdout + r.stderr);
  for (const n of [1, 2, 3]) assert.equal(r.stderr.split(`line ${n}\n`).length - 1, 1, `line ${n} once: ${r.stderr}`);
  assert.match(r.stderr, /\[stderr\] bad/);
  assert.match(r.stderr, /following over mqtt/);
  assert.match(r.stdout, new RegExp(`^${job.id} failed: `));
});

test("gantry job watch --events poll: the fallback transport; two jobs, the worst exit code, each result once", async () => {
  const ok = await t.api.submit({ capability: "debug.echo", payload: { hello: "watch" } });
  const cancelled = await t.api.submit({ capability: "nobody.runs.this" });
  await t.api.call("POST", `/v1/jobs/${cancelled.id}/cancel`);
  const r = await runGantry(["job", "watch", ok.id, cancelled.id, "--events", "poll", "--json"], env);
  assert.equal(r.code, 11, r.stderr);
  const lines = ndjson(r.stdout);
  assert.equal(lines[0]?.transport, "poll");
  const jobs = lines.flatMap((l) => (l.job ? [l.job] : []));
  assert.deepEqual(jobs.map((j) => j.id).sort(), [ok.id, cancelled.id].sort());
  assert.deepEqual(jobs.find((j) => j.id === ok.id)?.output, { hello: "watch" });
});

test("gantry job watch on an unknown job exits 4", async () => {
  const r = await runGantry(["job", "watch", "01ARZ3NDEKTSV4RRFFQ69G5FAV"], env);
  assert.equal(r.code, 4, r.stdout + r.stderr);
});
