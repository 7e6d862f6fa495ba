import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CODES } from "./errors.ts";

const DOC = new URL("../../../docs/errors.md", import.meta.url);

test("docs/errors.md lists every registry code with its status, and nothing else", () => {
  const rows = readFileSync(DOC, "utf8")
    .split("\n")
    .map((l) => /^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? "", Number(m[2])] as const);
  const documented = new Map(rows);
  assert.equal(documented.size, rows.length, "a code is documented twice");
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.equal(documented.get(code), spec.status, `docs/errors.md: ${code} missing or with the wrong status`);
  }
  for (const code of documented.keys())
    assert.ok(Object.hasOwn(ERROR_CODES, code), `docs/errors.md: ${code} is not in the registry`);
});

test("codes are snake_case and statuses are 4xx/5xx", () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/);
    assert.ok(spec.status >= 400 && spec.status < 600);
    assert.ok(spec.message.endsWith("."), `${code}: messages are sentences`);
  }
});
