import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createLogger } from "./create-logger.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("--log-file: levels apply, secrets are redacted, and the file rotates by size keeping a bounded number", async () => {
  const file = join(dir, "agent.log");
  const log = createLogger({ level: "info", file, rotateSize: "1k", keep: 2 });
  log.debug("not at info level");
  log.info({ token: "secret-token-value", jobId: "j1" }, "first line");
  for (let i = 0; i < 200; i++) log.info({ i, pad: "x".repeat(100) }, "filler");
  // pino-roll writes from a worker thread: give it time to write and rotate.
  await new Promise((r) => setTimeout(r, 1000));
  log.flush();
  await new Promise((r) => setTimeout(r, 300));
  const files = readdirSync(dir).filter((f) => f.startsWith("agent"));
  assert.ok(files.length >= 2, `rotated files expected, got ${files}`);
  assert.ok(files.length <= 3, `at most keep + 1 files, got ${files}`);
  const all = files.map((f) => readFileSync(join(dir, f), "utf8")).join("");
  assert.doesNotMatch(all, /not at info level/);
  assert.doesNotMatch(all, /secret-token-value/);
});
