import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, AgentStartError, startAgent } from "@gantry/agent";
import { SseParser } from "@gantry/client";
import type { Job, JobEvent } from "@gantry/protocol";
import { type Proc, spawnAgent } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * `shell.bash`, `benchmark` and process isolation through a real agent process: live logs over SSE,
 * a 200 MB flood with flat agent memory, cancel and runtime limits killing the whole process group,
 * crashes and hangs that leave the agent serving. Nothing asserts a timing.
 */

const SERVER = { heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 50, logLevel: "warn" };
const CRASH_EXECUTOR = new URL("./fixtures/crash-executor.ts", import.meta.url).pathname;
let t: TestServer;
const dir = tempDir("gantry-shell-");
const procs: Proc[] = [];
const inProcess: Agent[] = [];
let agent: Proc & { agentId: string };

before(async () => {
  t = await testServer(SERVER);
  // A secret in the agent's environment that commands must not see.
  process.env.GANTRY_TEST_SECRET = "do-not-leak";
  agent = await spawnAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "shell-agent.json"),
    dataDir: join(dir.path, "shell-agent"),
    allowShell: true,
    capacity: 3,
    executors: [CRASH_EXECUTOR],
    maxExecutorMemoryMb: 400,
    metrics: false,
    statusServer: false,
    logLevel: "warn",
  });
  delete process.env.GANTRY_TEST_SECRET;
  procs.push(agent);
});

after(async () => {
  for (const a of inProcess) await a.stop({ drainTimeoutMs: 0 }).catch(() => {});
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await t.close();
  dir.remove();
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const run = async (body: Record<string, unknown>, timeoutMs = 60_000): Promise<Job> =>
  t.api.waitTerminal((await t.api.submit({ maxAttempts: 1, ...body })).id, timeoutMs);

async function logLines(id: string): Promise<string[]> {
  const out: string[] = [];
  for (let after = 0; ; ) {
    const r = await t.api.call("GET", `/v1/jobs/${id}/logs?after=${after}&limit=5000`);
    out.push(...r.body.lines.map((l: { line: string }) => l.line));
    if (r.body.lines.length === 0) return out;
    after = r.body.nextAfter;
  }
}

/** Running (a zombie waiting for a reaper counts as gone: it runs nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Peak resident memory of a process (Linux `VmHWM`), in MB. */
function peakRssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
  return Number(m![1]) / 1024;
}

test("the agent advertises shell.bash with its detected attributes", async () => {
  const r = await t.api.call("GET", "/v1/agents");
  const view = r.body.agents.find((a: { id: string }) => a.id === agent.agentId);
  assert.ok(view.capabilities.includes(`shell.bash[os:${process.platform}]`), JSON.stringify(view.capabilities));
  assert.ok(view.capabilities.includes("test.crash[isolated]"));
});

test("shell.bash is refused without --allow-shell: not advertised, and --caps naming it fails at start listing what can run", async () => {
  const base = {
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  };
  const plain = await startAgent({
    ...base,
    configPath: join(dir.path, "plain.json"),
    dataDir: join(dir.path, "plain"),
  });
  inProcess.push(plain);
  assert.ok(!plain.capabilities.some((c) => c.startsWith("shell.bash")), plain.capabilities.join());
  assert.ok(plain.capabilities.includes("debug.echo"));
  await assert.rejects(
    startAgent({
      ...base,
      capabilities: ["shell.bash"],
      configPath: join(dir.path, "caps.json"),
      dataDir: join(dir.path, "caps"),
    }),
    (err: unknown) => {
      assert.ok(err instanceof AgentStartError);
      assert.match(err.message, /shell\.bash \(off: start the agent with --allow-shell/);
      assert.match(err.message, /What can run here: .*debug\.echo/);
      assert.equal(err.exitCode, 2);
      return true;
    },
  );
});

test("a command's output arrives over SSE while the command still runs", async () => {
  const gate = join(dir.path, "gate");
  const job = await t.api.submit({
    capability: "shell.bash",
    maxAttempts: 1,
    payload: { command: `echo first; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo second` },
  });
  const res = await fetch(`${t.server.url}/v1/jobs/${job.id}/events`, {
    headers: { authorization: `Bearer ${t.server.bootstrap.clientKey}` },
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const events: JobEvent[] = [];
  const nextEvent = async (pred: (e: JobEvent) => boolean): Promise<JobEvent> => {
    for (;;) {
      const found = events.find(pred);
      if (found) return found;
      const r = await reader.read();
      assert.ok(!r.done, "stream ended early");
      for (const m of parser.push(r.value)) events.push(JSON.parse(m.data) as JobEvent);
    }
  };
  await nextEvent((e) => e.type === "log" && e.line === "first");
  // The command is still waiting for the gate: the line came live, not at the end.
  assert.equal((await t.api.get(job.id)).status, "running");
  assert.ok(!events.some((e) => e.type === "log" && e.line === "second"));
  writeFileSync(gate, "");
  await nextEvent((e) => e.type === "log" && e.line === "second");
  await nextEvent((e) => e.type === "status" && e.status === "completed");
  await reader.cancel();
  const done = await t.api.get(job.id);
  assert.deepEqual({ ...(done.output as object), durationMs: 0 }, { exitCode: 0, signal: null, durationMs: 0 });
});

test("commands get only allow-listed environment variables plus their own", async () => {
  const job = await run({ capability: "shell.bash", payload: { argv: ["env"], env: { MY_VAR: "mine" } } });
  assert.equal(job.status, "completed");
  const lines = await logLines(job.id);
  assert.ok(lines.includes("MY_VAR=mine"));
  assert.ok(lines.some((l) => l.startsWith("PATH=")));
  assert.ok(lines.includes(`GANTRY_JOB_ID=${job.id}`));
  assert.ok(!lines.some((l) => l.includes("do-not-leak")), "the agent's secret leaked into the command");
});

test("a non-zero exit fails the job with the exit code; the working directory is per job and removed after", async () => {
  const job = await run({ capability: "shell.bash", payload: { command: "pwd; touch here; exit 3" } });
  assert.equal(job.status, "failed");
  const error = job.attempts.at(-1)!.error!;
  assert.equal(error.category, "inference");
  assert.match(error.message, /exited with code 3/);
  const [cwd] = await logLines(job.id);
  assert.match(cwd!, new RegExp(`${job.id}-1/work$`));
  await until("job directory removed", () => !existsSync(cwd!));
});

test("a command that prints 200 MB finishes, with bounded agent memory and a truncation marker", async () => {
  // 200 MB in 101-byte lines; the agent streams its log budget and counts the rest.
  const before = peakRssMb(agent.proc.pid!);
  const line = "x".repeat(100);
  const job = await run({ capability: "shell.bash", payload: { command: `yes ${line} | head -c 200000000` } }, 180_000);
  assert.equal(job.status, "completed", JSON.stringify(job.attempts));
  const out = job.output as { exitCode: number; droppedLogBytes: number };
  assert.equal(out.exitCode, 0);
  assert.ok(out.droppedLogBytes > 150_000_000, `dropped ${out.droppedLogBytes}`);
  const lines = await logLines(job.id);
  assert.ok(lines.some((l) => l.includes("log truncated")));
  // The summary counts exactly what the command printed past the budget.
  assert.equal(lines.at(-1), `[gantry] ${out.droppedLogBytes} more bytes of output were not streamed`);
  // Generous (measured: +42 MB, mostly the 4 MiB log budget passing through): an agent that
  // buffered the output would grow by hundreds of MB.
  const growth = peakRssMb(agent.proc.pid!) - before;
  assert.ok(growth < 120, `agent peak RSS grew by ${growth} MB`);
});

test("while a command floods its output, the agent's other jobs and messages still get through", async () => {
  const gate = join(dir.path, "flood-gate");
  // Prints without end until the gate opens: the flood is certainly on while the echo job runs.
  const flood = await t.api.submit({
    capability: "shell.bash",
    maxAttempts: 1,
    payload: { command: `yes flood & Y=$!; while [ ! -e '${gate}' ]; do sleep 0.05; done; kill $Y` },
  });
  await t.api.waitFor(flood.id, (j) => j.status === "running");
  const echo = await run({ capability: "debug.echo", payload: { during: "flood" } });
  assert.equal(echo.status, "completed");
  assert.equal((await t.api.get(flood.id)).status, "running");
  writeFileSync(gate, "");
  assert.equal((await t.api.waitTerminal(flood.id, 60_000)).status, "completed");
});

test("cancel kills the command's whole process group (a sleep 1000 it started is gone)", async () => {
  const pidFile = join(dir.path, "sleep.pid");
  const job = await t.api.submit({
    capability: "shell.bash",
    maxAttempts: 1,
    payload: { command: `sleep 1000 & echo $! > '${pidFile}'; wait` },
  });
  const pid = await until("sleep started", () =>
    existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) || undefined : undefined,
  );
  assert.ok(alive(pid));
  const c = await t.api.call("POST", `/v1/jobs/${job.id}/cancel`);
  assert.ok(c.status < 300, JSON.stringify(c.body));
  assert.equal((await t.api.waitTerminal(job.id, 30_000)).status, "cancelled");
  await until("sleep 1000 killed", () => !alive(pid));
});

test("runtimeSecs kills the process group too, and the job fails with a timeout", async () => {
  const pidFile = join(dir.path, "sleep2.pid");
  const job = await run({
    capability: "shell.bash",
    // Long enough for bash to start and write the pid on a loaded machine.
    runtimeSecs: 3,
    payload: { command: `trap '' TERM; sleep 1000 & echo $! > '${pidFile}'; wait` },
  });
  assert.equal(job.status, "failed");
  assert.equal(job.attempts.at(-1)!.error!.category, "timeout");
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  await until("sleep 1000 killed", () => !alive(pid));
});

test("an isolated executor that segfaults or hangs is killed; the agent keeps serving", async () => {
  const segv = await run({ capability: "test.crash", payload: { mode: "segv" } });
  assert.equal(segv.status, "failed");
  assert.deepEqual(
    { category: segv.attempts.at(-1)!.error!.category, code: segv.attempts.at(-1)!.error!.code },
    { category: "fatal", code: "executor_crashed" },
  );
  assert.match(segv.attempts.at(-1)!.error!.message, /crashed \(SIGSEGV\)/);

  const hang = await run({ capability: "test.crash", runtimeSecs: 1, payload: { mode: "hang" } });
  assert.equal(hang.status, "failed");
  assert.equal(hang.attempts.at(-1)!.error!.category, "timeout");

  const ok = await run({ capability: "test.crash", payload: { mode: "ok" } });
  assert.equal(ok.status, "completed");
  const childPid = (ok.output as { pid: number }).pid;
  assert.notEqual(childPid, agent.proc.pid, "the executor ran in its own process");
  assert.equal(agent.proc.exitCode, null, "the agent is still running");
  assert.equal((await run({ capability: "debug.echo", payload: { still: "here" } })).status, "completed");
});

test("an isolated executor that leaks memory is killed at the limit; the agent keeps serving", async () => {
  const leak = await run({ capability: "test.crash", payload: { mode: "leak" } });
  assert.equal(leak.status, "failed");
  const error = leak.attempts.at(-1)!.error!;
  assert.deepEqual({ category: error.category, code: error.code }, { category: "transient", code: "executor_memory" });
  assert.match(error.message, /over the limit of 400 MB/);
  assert.equal((await run({ capability: "test.crash", payload: { mode: "ok" } })).status, "completed");
});

test("an isolated executor's output that JSON cannot hold, or that is too big, fails the job fatal", async () => {
  for (const [mode, why] of [
    ["bigint", /output\.n is a BigInt/],
    ["cycle", /output\.self refers back to itself/],
    ["huge", /output is too large/],
  ] as const) {
    const job = await run({ capability: "test.crash", payload: { mode } });
    assert.equal(job.status, "failed", mode);
    assert.equal(job.attempts.at(-1)!.error!.category, "fatal", mode);
    assert.match(job.attempts.at(-1)!.error!.message, why);
  }
  assert.equal(agent.proc.exitCode, null);
});

test("when the agent is killed with SIGKILL, what its jobs started dies with it", async () => {
  const doomed = await spawnAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "doomed.json"),
    dataDir: join(dir.path, "doomed"),
    executors: [new URL("./fixtures/orphan-executor.ts", import.meta.url).pathname],
    metrics: false,
    statusServer: false,
    logLevel: "warn",
  });
  procs.push(doomed);
  const pidFile = join(dir.path, "orphan.pid");
  await t.api.submit({ capability: "test.orphan", maxAttempts: 1, payload: { pidFile } });
  const pid = await until("sleep started", () =>
    existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) || undefined : undefined,
  );
  assert.ok(alive(pid));
  doomed.kill("SIGKILL");
  await doomed.exited;
  await until("the orphaned sleep is gone", () => !alive(pid));
});

test("a plugin that ends its thread on import stops the start with a clear error, not a hang", async () => {
  await assert.rejects(
    startAgent({
      server: t.server.url,
      key: t.server.bootstrap.agentKey,
      configPath: join(dir.path, "broken.json"),
      dataDir: join(dir.path, "broken"),
      executors: [new URL("./fixtures/exiting-executor.ts", import.meta.url).pathname],
      metrics: false,
      statusServer: false,
      logLevel: "silent",
      print: () => {},
    }),
    (err: unknown) =>
      err instanceof AgentStartError &&
      /detection thread failed \(executor thread exited \(code 3\)\)/.test(err.message),
  );
});
