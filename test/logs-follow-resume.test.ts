import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Agent, startAgent } from "@gantry/agent";
import { Api } from "./helpers/api.ts";
import { freePort, type Proc, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * `gantry job logs --follow` across a real connection drop: the server is killed with SIGKILL and
 * started again while the CLI follows a running command; it reconnects with Last-Event-ID and
 * prints every line exactly once.
 */

const GANTRY = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
const dir = tempDir("gantry-follow-");
const procs: Proc[] = [];
let agent: Agent | undefined;
after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 }).catch(() => {});
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  dir.remove();
});

test("job logs --follow resumes after the server restarts: no line lost or repeated", async () => {
  const opts = {
    port: await freePort(),
    dataDir: join(dir.path, "server"),
    heartbeatIntervalSecs: 0.5,
    leaseSecs: 10,
    sweepIntervalMs: 50,
    logLevel: "warn",
  };
  let server = await spawnServer(opts);
  procs.push(server);
  const api = new Api(server.url, server.bootstrap.clientKey);
  agent = await startAgent({
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    dataDir: join(dir.path, "agent"),
    allowShell: true,
    reconnectBaseMs: 100,
    reconnectCapMs: 500,
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  });
  const gate = join(dir.path, "gate");
  const gate2 = join(dir.path, "gate2");
  const job = await api.submit({
    capability: "shell.bash",
    maxAttempts: 1,
    payload: {
      command: [
        "echo one; echo two",
        `while [ ! -e '${gate}' ]; do sleep 0.05; done; echo three`,
        `while [ ! -e '${gate2}' ]; do sleep 0.05; done; echo four`,
      ].join("; "),
    },
  });
  const env = { PATH: process.env.PATH ?? "", HOME: dir.path, GANTRY_URL: server.url, GANTRY_API_KEY: api.key };
  const follower = spawn(process.execPath, [GANTRY, "job", "logs", job.id, "--follow"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  follower.stdout.on("data", (d) => (out += d));
  follower.stderr.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => follower.on("close", (code) => r(code)));
  const until = async (what: string, probe: () => boolean) => {
    const end = Date.now() + 60_000;
    while (!probe()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; follower printed:\n${out}${err}`);
      await sleep(25);
    }
  };
  await until("the first lines followed", () => out.includes("two"));

  server.kill("SIGKILL"); // the follower's stream breaks
  await server.exited;
  server = await spawnServer(opts);
  procs.push(server);
  writeFileSync(gate, ""); // "three" is logged once the agent is back…
  // …and followed live after the reconnect, while the command still runs (not fetched at the end).
  await until("a line after the restart followed live", () => out.includes("three"));
  assert.equal((await api.get(job.id)).status, "running");
  writeFileSync(gate2, "");
  assert.equal(await exited, 0, err);
  const lines = out
    .trim()
    .split("\n")
    .map((l) => l.replace(/^.*?(one|two|three|four)$/, "$1"));
  assert.deepEqual(lines, ["one", "two", "three", "four"], out);
  assert.equal((await api.get(job.id)).status, "completed");
});
