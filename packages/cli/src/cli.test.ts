import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Agent, startAgent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { type GantryServer, startServer } from "@gantry/server";
import { EXIT } from "./exit-codes.ts";

// The real CLI as a child process, against a real server and agent over loopback.
const LAUNCHER = fileURLToPath(new URL("../bin/gantry.js", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NOBODY = "test.nobody-runs-this";

let dir: string;
let server: GantryServer;
let agent: Agent;
let env: Record<string, string>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gantry(
  args: string[],
  extraEnv: Record<string, string | undefined> = env,
  node = process.execPath,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only what the test chooses: the CLI must not pick up GANTRY_* from the developer's shell.
    const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
    for (const [k, v] of Object.entries(extraEnv)) if (v !== undefined) childEnv[k] = v;
    const child = spawn(node, [LAUNCHER, ...args], { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-cli-test-"));
  server = await startServer({ port: 0, dataDir: join(dir, "server"), logLevel: "silent", sweepIntervalMs: 50 });
  agent = await startAgent({
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath: join(dir, "agent", "agent.json"),
    dataDir: join(dir, "agent"),
    capacity: 4,
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  env = { GANTRY_URL: server.url, GANTRY_API_KEY: server.bootstrap.clientKey };
});

after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 });
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("gantry CLI", () => {
  it("prints help and version", async () => {
    const help = await gantry(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /submit \[options\] <capability>/);
    const version = await gantry(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it("submit --wait --json prints the completed job and exits 0", async () => {
    const run = await gantry(["submit", "debug.echo", "--payload", '{"x":1}', "--wait", "--json"]);
    assert.equal(run.code, EXIT.ok, run.stderr);
    const job = JSON.parse(run.stdout) as Job;
    assert.equal(job.status, "completed");
    assert.deepEqual(job.output, { x: 1 });
  });

  it("takes --url and --key instead of the environment", async () => {
    const run = await gantry(
      ["job", "submit", NOBODY, "--json", "--url", server.url, "--key", server.bootstrap.clientKey],
      {},
    );
    assert.equal(run.code, EXIT.ok, run.stderr);
    const job = JSON.parse(run.stdout) as Job;
    assert.equal(job.status, "queued");
    const got = await gantry(["job", "get", job.id, "--json"]);
    assert.equal((JSON.parse(got.stdout) as Job).id, job.id);
    const list = await gantry(["job", "list", "--status", "queued", "--capability", NOBODY]);
    assert.match(list.stdout, new RegExp(job.id));
    const cancel = await gantry(["job", "cancel", job.id, "--json"]);
    assert.equal((JSON.parse(cancel.stdout) as Job).status, "cancelled");
    const again = await gantry(["job", "cancel", job.id]);
    assert.equal(again.code, EXIT.conflict);
    assert.match(again.stderr, /job_not_cancellable/);
  });

  it("exits with a distinct code for each way a waited-for job can end badly", async () => {
    const failed = await gantry([
      "submit",
      "debug.fail",
      "--payload",
      '{"category":"fatal"}',
      "--max-attempts",
      "1",
      "--wait",
      "--json",
    ]);
    assert.equal(failed.code, EXIT.jobFailed, failed.stderr);
    assert.equal((JSON.parse(failed.stdout) as Job).status, "failed");

    const timedOut = await gantry(["submit", NOBODY, "--max-wait", "0.3", "--wait", "--json"]);
    assert.equal(timedOut.code, EXIT.jobTimedOut, timedOut.stderr);
    assert.equal((JSON.parse(timedOut.stdout) as Job).error?.category, "timeout");

    const gaveUp = await gantry(["submit", NOBODY, "--wait", "--wait-timeout", "0.3", "--json"]);
    assert.equal(gaveUp.code, EXIT.waitTimedOut, gaveUp.stderr);
    const stillQueued = JSON.parse(gaveUp.stdout) as Job;
    assert.equal(stillQueued.status, "queued");

    const cancelled = await gantry(["job", "cancel", stillQueued.id, "--wait", "--json"]);
    assert.equal(cancelled.code, EXIT.jobCancelled, cancelled.stderr);
  });

  it("rejects bad input with a clear message and the usage exit code, before any request", async () => {
    const badJson = await gantry(["submit", "debug.echo", "--payload", '{"x":']);
    assert.equal(badJson.code, EXIT.usage);
    assert.match(badJson.stderr, /--payload.*not valid JSON/);
    const badCap = await gantry(["submit", "Not A Capability"]);
    assert.equal(badCap.code, EXIT.usage);
    assert.match(badCap.stderr, /invalid job: capability/);
    const badNumber = await gantry(["submit", "debug.echo", "--priority", "high"]);
    assert.equal(badNumber.code, EXIT.usage);
    assert.match(badNumber.stderr, /--priority/);
    const noUrl = await gantry(["job", "list"], {});
    assert.equal(noUrl.code, EXIT.usage);
    assert.match(noUrl.stderr, /GANTRY_URL/);
    const badEnv = await gantry(["job", "list"], { ...env, GANTRY_URL: "not a url" });
    assert.equal(badEnv.code, EXIT.usage);
    assert.match(badEnv.stderr, /GANTRY_URL/);
    const unknown = await gantry(["frobnicate"]);
    assert.equal(unknown.code, EXIT.usage);
  });

  it("prints the server's code and message for API errors", async () => {
    const notFound = await gantry(["job", "get", "01ARZ3NDEKTSV4RRFFQ69G5FAV"]);
    assert.equal(notFound.code, EXIT.notFound);
    assert.match(notFound.stderr, /job_not_found \(HTTP 404\)/);
    const badKey = await gantry(["job", "list"], { ...env, GANTRY_API_KEY: "gnt_c_nope" });
    assert.equal(badKey.code, EXIT.auth);
    assert.match(badKey.stderr, /auth_invalid/);
    const down = await gantry(["health"], { GANTRY_URL: "http://127.0.0.1:1" });
    assert.equal(down.code, EXIT.unavailable);
    assert.match(down.stderr, /cannot reach the server/);
  });

  it("streams a job's events with job watch until it ends", async () => {
    const submitted = await gantry(["submit", "debug.sleep", "--payload", '{"ms":1200}', "--json"]);
    const job = JSON.parse(submitted.stdout) as Job;
    const watch = await gantry(["job", "watch", job.id, "--json"]);
    assert.equal(watch.code, EXIT.ok, watch.stderr);
    const lines = watch.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event?: unknown; job?: Job });
    assert.ok(lines.some((l) => l.event));
    assert.equal(lines.at(-1)?.job?.status, "completed");
  });

  it("gantry dev starts a server and a local agent, prints a working submit command, and stops on SIGTERM", async () => {
    const childEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
    const dev = spawn(
      process.execPath,
      [LAUNCHER, "dev", "--port", "0", "--data", join(dir, "dev"), "--log-level", "warn"],
      {
        env: childEnv,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    dev.stdout.on("data", (d) => (output += d));
    dev.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => dev.on("close", resolve));
    try {
      for (let i = 0; i < 300 && !output.includes("ready for jobs"); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(output, /ready for jobs/, output);
      const line = /^ {2}(GANTRY_URL=\S+ GANTRY_API_KEY=.* npx gantry submit debug\.echo .*)$/m.exec(output);
      assert.ok(line, output);
      assert.doesNotMatch(line[1] ?? "", /gnt_c_/, "the printed command must not contain the key itself");
      // Paste it into a shell, as a user would.
      const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const sh = spawn("sh", ["-c", line[1]!], { cwd: REPO_ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        sh.stdout.on("data", (d) => (stdout += d));
        sh.stderr.on("data", (d) => (stderr += d));
        sh.on("close", (code) => resolve({ code, stdout, stderr }));
      });
      assert.equal(run.code, EXIT.ok, run.stderr);
      assert.deepEqual((JSON.parse(run.stdout) as Job).output, { x: 1 });
    } finally {
      dev.kill("SIGTERM");
    }
    assert.equal(await exited, 0, output);
  });

  it("the launcher re-executes itself with the repository's Node when started by an older one", async (t) => {
    const oldNode = findSystemNode();
    if (!oldNode) {
      t.skip("no Node < 22.18 on PATH outside node_modules");
      return;
    }
    const run = await gantry(["--version"], {}, oldNode);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^\d+\.\d+\.\d+/);
    const bad = await gantry(["submit", "debug.echo", "--payload", "{"], {}, oldNode);
    assert.equal(bad.code, EXIT.usage);
  });
});

/** A `node` on PATH that is not the repository's (npx puts node_modules/.bin first). */
function findSystemNode(): string | undefined {
  for (const entry of (process.env.PATH ?? "").split(delimiter)) {
    if (entry.includes("node_modules")) continue;
    const candidate = join(entry, "node");
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
    const [major = 0, minor = 0] = version.split(".").map(Number);
    return major < 22 || (major === 22 && minor < 18) ? candidate : undefined;
  }
  return undefined;
}
