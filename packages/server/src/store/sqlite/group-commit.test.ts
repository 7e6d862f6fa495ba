import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { isStorageFullError } from "../storage-errors.ts";
import { GroupCommit } from "./group-commit.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-gc-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// max_page_count makes SQLite answer SQLITE_FULL deterministically, as a full disk does.
test("a full database fails only the writes it touches, is reported, and recovers without a restart", async () => {
  const db = new Database(join(dir, "full.db"));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  const gc = new GroupCommit(db);
  const insert = db.prepare("INSERT INTO t (id, v) VALUES (?, ?)");
  const pages = db.pragma("page_count", { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 2}`);

  const outcomes = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      gc
        .write(() => insert.run(i, "x".repeat(i % 2 === 0 ? 10 : 20_000)))
        .then(
          () => "ok" as const,
          (err: unknown) => (isStorageFullError(err) ? ("full" as const) : err),
        ),
    ),
  );
  assert.ok(outcomes.includes("full"), "some writes hit SQLITE_FULL");
  assert.ok(
    outcomes.every((o) => o === "ok" || o === "full"),
    String(outcomes),
  );
  assert.match(gc.storageIssue ?? "", /SQLITE_FULL/);
  // Exactly the writes that resolved are durable.
  const stored = new Set((db.prepare("SELECT id FROM t").all() as { id: number }[]).map((r) => r.id));
  for (const [i, o] of outcomes.entries()) assert.equal(stored.has(i), o === "ok", `row ${i}: ${String(o)}`);

  db.pragma("max_page_count = 1073741823");
  await gc.write(() => insert.run(1000, "y".repeat(20_000)));
  assert.equal(gc.storageIssue, null);
  assert.equal((db.prepare("SELECT v FROM t WHERE id = 1000").get() as { v: string }).v.length, 20_000);
  db.close();
});
