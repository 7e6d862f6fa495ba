import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Agent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { upload } from "./helpers/files.ts";
import { type CliResult, runGantry, serverWithShellAgent } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import type { TestServer } from "./helpers/test-server.ts";

/**
 * Files through a real agent: inputs fetched into the job's directory (hash-checked, cached),
 * outputs uploaded from its output directory, the directory gone after; end to end via the CLI.
 */

const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
let t: TestServer;
let agent: Agent;
const dir = tempDir("gantry-agent-files-");

before(async () => {
  ({ t, agent } = await serverWithShellAgent(dir.path, "agent"));
});
after(async () => {
  await agent.stop({ drainTimeoutMs: 0 });
  await t.close();
  dir.remove();
});

/** Where the server's local blob store keeps a hash (docs/files.md: `<data>/blobs/ab/cd/<hash>`). */
function serverBlob(hash: string): string {
  const file = join(t.server.dataDir, "blobs", hash.slice(0, 2), hash.slice(2, 4), hash);
  assert.ok(existsSync(file), `no blob at ${file}`);
  return file;
}

function gantry(args: string[]): Promise<CliResult> {
  return runGantry(args, { HOME: dir.path, GANTRY_URL: t.server.url, GANTRY_API_KEY: t.api.key });
}

test("a job with two input files and two output files, end to end through a real agent, via the CLI", async () => {
  const a = randomBytes(300_000);
  const b = "second input\n";
  writeFileSync(join(dir.path, "local-a.bin"), a);
  writeFileSync(join(dir.path, "local-b.txt"), b);
  // The command reads both inputs and writes two outputs: a copy of a, and b reversed with a's hash.
  const command = [
    `cp "$GANTRY_INPUT_DIR/a" "$GANTRY_OUTPUT_DIR/a-copy.bin"`,
    `{ rev "$GANTRY_INPUT_DIR/b"; sha256sum "$GANTRY_INPUT_DIR/a" | cut -d' ' -f1; } > "$GANTRY_OUTPUT_DIR/report.txt"`,
  ].join(" && ");
  const submitted = await gantry([
    "job",
    "submit",
    "shell.bash",
    "--payload",
    JSON.stringify({ command }),
    "--file",
    `a=${join(dir.path, "local-a.bin")}`,
    "--file",
    `b=${join(dir.path, "local-b.txt")}`,
    "--max-attempts",
    "1",
    "--wait",
    "--json",
  ]);
  assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr);
  const job = JSON.parse(submitted.stdout) as Job;
  assert.equal(job.status, "completed");
  assert.deepEqual(
    job.inputs.map((f) => f.name),
    ["a", "b"],
  );

  const out = join(dir.path, "downloaded");
  const dl = await gantry(["job", "download", job.id, "-o", out]);
  assert.equal(dl.code, 0, dl.stdout + dl.stderr);
  assert.deepEqual(readdirSync(out).sort(), ["a-copy.bin", "report.txt"]);
  assert.equal(sha256(readFileSync(join(out, "a-copy.bin"))), sha256(a));
  assert.equal(readFileSync(join(out, "report.txt"), "utf8"), `tupni dnoces\n${sha256(a)}\n`);
  // The job's directory (inputs, outputs, scratch) is gone.
  assert.ok(!existsSync(join(dir.path, "agent", "jobs", `${job.id}-1`)));
});

test("inputs (nested names too) come from the agent's cache the second time; nested outputs are kept, links are not; saveLog keeps output.log", async () => {
  const up = await upload(t.server.url, t.api.key, "sets/data.txt", "cached bytes\n");
  assert.equal(up.status, 201);
  const cached = join(dir.path, "agent", "cache", "inputs", up.body.hash);
  const run = async () =>
    t.api.waitTerminal(
      (
        await t.api.submit({
          capability: "shell.bash",
          maxAttempts: 1,
          inputs: [{ name: "sets/data.txt", hash: up.body.hash }],
          payload: {
            command: `cat "$GANTRY_INPUT_DIR/sets/data.txt"; echo done; mkdir -p "$GANTRY_OUTPUT_DIR/plots" && echo p > "$GANTRY_OUTPUT_DIR/plots/p.txt"; ln -s /etc/passwd "$GANTRY_OUTPUT_DIR/link"`,
            saveLog: true,
          },
        })
      ).id,
      30_000,
    );
  const first = await run();
  assert.equal(first.status, "completed", JSON.stringify(first.attempts));
  assert.ok(existsSync(cached));
  // Spoil the server's copy (same length): a download would fail its hash check, the cache does not.
  writeFileSync(serverBlob(up.body.hash), "spoiled byte");
  const second = await run();
  assert.equal(second.status, "completed");
  const files = await t.api.call("GET", `/v1/jobs/${second.id}/files`);
  assert.deepEqual(
    files.body.files.map((f: { name: string }) => f.name),
    ["output.log", "plots/p.txt"],
  );
  const log = await fetch(`${t.server.url}/v1/jobs/${second.id}/files/output.log`, {
    headers: { authorization: `Bearer ${t.api.key}` },
  });
  assert.equal(await log.text(), "cached bytes\ndone\n");
});

test("an input whose bytes do not match its hash fails the job and is not cached", async () => {
  const up = await upload(t.server.url, t.api.key, "x.txt", "right bytes");
  assert.equal(up.status, 201);
  writeFileSync(serverBlob(up.body.hash), "wrong bytes"); // same length: the server streams it as it is
  const job = await t.api.waitTerminal(
    (
      await t.api.submit({
        capability: "shell.bash",
        maxAttempts: 1,
        inputs: [{ name: "x.txt", hash: up.body.hash }],
        payload: { command: 'cat "$GANTRY_INPUT_DIR/x.txt"' },
      })
    ).id,
    30_000,
  );
  assert.equal(job.status, "failed");
  assert.equal(job.attempts.at(-1)!.error!.code, "file_transfer");
  assert.match(job.attempts.at(-1)!.error!.message, /expected/);
  assert.ok(!existsSync(join(dir.path, "agent", "cache", "inputs", up.body.hash)));
});
