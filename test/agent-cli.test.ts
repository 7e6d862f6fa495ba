import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/** The agent as a user runs it: the real `gantry agent` command and its status/stop/unregister. */

const GANTRY = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
let t: TestServer;
const dir = tempDir();
const children: ChildProcess[] = [];
const config = join(dir.path, "agent.json");

before(async () => {
  t = await testServer();
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await t.close();
  dir.remove();
});

function start(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | string | null> } {
  const child = spawn(process.execPath, [GANTRY, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return {
    child,
    output: () => out,
    exited: new Promise((r) => child.on("exit", (code, signal) => r(code ?? signal))),
  };
}

async function run(args: string[]): Promise<{ code: number | string | null; out: string }> {
  const p = start(args);
  const code = await p.exited;
  return { code, out: p.output() };
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("gantry agent: first run, status, stop, a flagless second run, unregister", async () => {
  const first = start([
    "agent",
    "--server",
    t.server.url,
    "--key",
    t.server.bootstrap.agentKey,
    "--config",
    config,
    "--log-level",
    "warn",
  ]);
  await until("ready", () => first.output().includes("Ping test successful - agent is ready!"));
  assert.match(first.output(), /Registration successful!\nAgent ID: [0-9a-f-]{36}\nMessage: Registered/);

  let status = await run(["agent", "status", "--json", "--config", config]);
  await until("status answers", async () => {
    status = await run(["agent", "status", "--json", "--config", config]);
    return status.code === 0 && JSON.parse(status.out).connection === "ready";
  });
  const idle = JSON.parse(status.out);
  assert.equal(idle.activity, "idle");
  assert.equal(idle.deadLetters, 0);
  assert.match((await run(["agent", "status", "--config", config])).out, /dead: +0 messages given up on/);

  // Long enough to be seen running by a status command, which is a whole CLI process per look.
  const job = await t.api.submit({ capability: "debug.sleep", payload: { ms: 4000 } });
  let busy: { activity?: string; jobs?: { id: string }[] } = {};
  await until("busy", async () => {
    busy = JSON.parse((await run(["agent", "status", "--json", "--config", config])).out);
    return busy.activity === "busy";
  });
  assert.deepEqual(
    busy.jobs?.map((j) => j.id),
    [job.id],
  );

  // stop = SIGTERM via the PID file: the running job finishes, the agent deregisters and exits 0.
  const stopped = await run(["agent", "stop", "--wait", "--config", config]);
  assert.equal(stopped.code, 0, stopped.out);
  assert.equal(await first.exited, 0, first.output());
  assert.equal((await t.api.get(job.id)).status, "completed");
  const view = (await t.api.call("GET", "/v1/agents")).body.agents.find((a: { id: string }) => a.id === idle.agentId);
  assert.equal(view.online, false);
  const notRunning = await run(["agent", "status", "--config", config]);
  assert.equal(notRunning.code, 3);
  assert.match(notRunning.out, /not running/);

  const second = start(["agent", "--config", config, "--log-level", "warn"]);
  await until("second run ready", () => second.output().includes("Ping test successful"));
  assert.match(second.output(), /saved identity/i);
  assert.doesNotMatch(second.output(), /Registration successful/);
  second.child.kill("SIGTERM");
  assert.equal(await second.exited, 0, second.output());

  const unregistered = await run(["agent", "unregister", "--config", config]);
  assert.equal(unregistered.code, 0, unregistered.out);
  // The identity is gone but the server and enrolment key stay: the next start enrols anew.
  const third = start(["agent", "--config", config, "--log-level", "warn"]);
  await until("third run ready", () => third.output().includes("Ping test successful"));
  assert.match(third.output(), /Registration successful!\nAgent ID: ([0-9a-f-]{36})/);
  assert.doesNotMatch(third.output(), new RegExp(idle.agentId));
  third.child.kill("SIGTERM");
  assert.equal(await third.exited, 0, third.output());
});
