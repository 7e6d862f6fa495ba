import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Agent } from "@gantry/agent";
import { type CliResult, runGantry, serverWithShellAgent } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import type { TestServer } from "./helpers/test-server.ts";

/** The executor surface of the CLI: `gantry agent executors`, `--caps` checked at start, `job logs --follow`. */

let t: TestServer;
let agent: Agent;
const dir = tempDir("gantry-exec-cli-");

before(async () => {
  ({ t, agent } = await serverWithShellAgent(dir.path, "shell"));
});
after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

function gantry(args: string[]): Promise<CliResult> {
  return runGantry(args, { HOME: dir.path, GANTRY_URL: t.server.url, GANTRY_API_KEY: t.api.key });
}

test("gantry agent executors lists each executor, available or not, and why not", async () => {
  const config = join(dir.path, "list.json");
  const plain = await gantry(["agent", "executors", "--config", config]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^no\s+shell\.bash\s+shell\.bash\s+process\s+off: start the agent with --allow-shell/m);
  assert.match(plain.stdout, /^yes\s+debug\.echo\s/m);
  const allowed = await gantry(["agent", "executors", "--config", config, "--allow-shell", "--json"]);
  const list = JSON.parse(allowed.stdout) as Array<{ name: string; detected: boolean; attributes: string[] }>;
  const shell = list.find((d) => d.name === "shell.bash")!;
  assert.equal(shell.detected, true);
  assert.deepEqual(shell.attributes, [`os:${process.platform}`]);
});

test("gantry agent --caps naming a capability nothing here can run exits 2 and lists what can run", async () => {
  const r = await gantry([
    "agent",
    "--server",
    t.server.url,
    "--key",
    t.server.bootstrap.agentKey,
    "--config",
    join(dir.path, "caps.json"),
    "--caps",
    "shell.bash",
    "llm.nothing-here",
  ]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /shell\.bash \(off: start the agent with --allow-shell/);
  assert.match(r.stderr, /llm\.nothing-here \(no executor serves it\)/);
  assert.match(r.stderr, /What can run here: .*debug\.echo/);
});

test("gantry job logs --follow prints a running command's lines once each, in order, and exits when it ends", async () => {
  const gate = join(dir.path, "gate");
  const job = await t.api.submit({
    capability: "shell.bash",
    payload: {
      command: `for i in 1 2 3; do echo early $i; done; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo late`,
    },
  });
  const follow = gantry(["job", "logs", job.id, "--follow", "--json"]);
  // Open the gate only once the early lines are stored (the follower may see them either way).
  for (;;) {
    const r = await t.api.call("GET", `/v1/jobs/${job.id}/logs`);
    if (r.body.lines.length >= 3) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  writeFileSync(gate, "");
  const r = await follow;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { line: string }).line);
  assert.deepEqual(lines, ["early 1", "early 2", "early 3", "late"]);
});
