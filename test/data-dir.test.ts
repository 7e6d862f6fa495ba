import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers/temp-dir.ts";
import { mountTmpfs } from "./helpers/tmpfs.ts";

const GANTRY = fileURLToPath(new URL("../packages/cli/bin/gantry.js", import.meta.url));
const dir = tempDir();
after(() => dir.remove());

function gantryServer(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [GANTRY, "server", "--port", "0", "--data", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function assertOneClearLine(res: { code: number | null; stderr: string }, path: string): void {
  assert.notEqual(res.code, 0, res.stderr);
  assert.notEqual(res.code, null, "the server did not exit");
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 1, res.stderr);
  assert.match(lines[0]!, /^error: Cannot use the data directory /);
  assert.ok(lines[0]!.includes(path), res.stderr);
  assert.match(lines[0]!, /--data DIR/);
  assert.doesNotMatch(res.stderr, /\n\s+at /);
}

test("a data dir that cannot be created: one clear line, non-zero exit", async () => {
  const file = join(dir.path, "a-file");
  writeFileSync(file, "");
  const target = join(file, "data");
  assertOneClearLine(await gantryServer(target), target);
});

test("a read-only data dir: one clear line, non-zero exit", async (t) => {
  const mount = join(dir.path, "ro");
  const unmount = mountTmpfs(mount, "size=1m,ro");
  if (typeof unmount === "string") return t.skip(unmount);
  try {
    assertOneClearLine(await gantryServer(mount), mount);
  } finally {
    unmount();
  }
});
