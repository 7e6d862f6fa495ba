import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { GantryClient } from "@gantry/client";
import { tempDir } from "./helpers/temp-dir.ts";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

const LAUNCHER = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
let t: TestServer;
before(async () => {
  t = await testServer(FAST);
});
after(() => t.close());

function gantry(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

test("gantry capabilities --json lists agents, free slots, queued jobs and attributes; text output too", async () => {
  const a = await t.agent({ capabilities: ["cli.caps[gpu]"], capacity: 2 });
  a.startHeartbeats(100);
  await a.connect();
  await new GantryClient({ url: t.server.url, apiKey: t.server.bootstrap.clientKey }).waitForWorkers(["cli.caps"]);
  const env = { GANTRY_URL: t.server.url, GANTRY_API_KEY: t.server.bootstrap.clientKey };
  const json = await gantry(["capabilities", "--json"], env).done;
  assert.equal(json.code, 0, json.stderr);
  const caps = JSON.parse(json.stdout).capabilities as { name: string; agents: number; attributes: object }[];
  assert.deepEqual(
    caps.find((c) => c.name === "cli.caps"),
    { name: "cli.caps", agents: 1, freeSlots: 2, queued: 0, attributes: { gpu: true } },
  );
  const text = await gantry(["capabilities"], env).done;
  assert.match(text.stdout, /cli\.caps\s+1\s+2\s+0\s+gpu/);
  await a.close();
});

test("gantry server --no-auth: loopback, announced loudly, and the SDK works without a key", async () => {
  const dir = tempDir();
  const s = gantry(["server", "--no-auth", "--port", "0", "--data", dir.path, "--log-level", "silent"], {
    GANTRY_HOST: "0.0.0.0",
  });
  while (!/listening on/.test(s.stderr())) await new Promise((r) => setTimeout(r, 50));
  assert.match(s.stderr(), /NO-AUTH MODE/);
  const url = /listening on (\S+)/.exec(s.stderr())![1]!;
  assert.match(url, /^http:\/\/127\.0\.0\.1:/, "GANTRY_HOST alone does not take a no-auth server off loopback");
  const client = new GantryClient({ url });
  const job = await client.submit("cli.open", {});
  assert.equal((await client.get(job.id)).status, "queued");
  client.close();
  s.child.kill("SIGTERM");
  await s.done;
  dir.remove();
});
