import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { JobWorkspace, lazyDirs } from "./job-workspace.ts";

const root = fs.mkdtempSync(path.join(tmpdir(), "gantry-ws-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

test("an attempt's directories are made only when an executor asks for them, and removed after", async () => {
  const ws = new JobWorkspace(path.join(root, "jobs"));
  const job = { id: "01J0000000000000000000000A", epoch: 2 };
  const dirs = ws.prepare(job);
  assert.ok(!fs.existsSync(ws.dirOf(job)), "nothing made up front");
  const lazy = lazyDirs(dirs);
  assert.equal(lazy.outputDir, path.join(ws.dirOf(job), "out"));
  assert.ok(fs.existsSync(dirs.outputDir));
  assert.ok(!fs.existsSync(dirs.workDir), "only what was asked for");
  fs.writeFileSync(path.join(lazy.workDir, "scratch"), "x");
  await ws.release(job);
  assert.ok(!fs.existsSync(ws.dirOf(job)));
});

test("clear() removes what a crashed run left", () => {
  const ws = new JobWorkspace(path.join(root, "jobs2"));
  fs.mkdirSync(path.join(ws.root, "left-1", "work"), { recursive: true });
  ws.clear();
  assert.ok(!fs.existsSync(ws.root));
});
