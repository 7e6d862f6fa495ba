import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL(".", import.meta.url));
const DOCS = fileURLToPath(new URL("../../../docs/sdk/", import.meta.url));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : [],
  );
}

// `any` where a type goes: after a colon, in generics, unions, arrays, casts.
const ANY_TYPE = /(:\s*any\b|<any\b|\bany>|\bas any\b|\bany\[\]|\|\s*any\b|\bany\s*\|)/;

test("the SDK's sources declare no `any` type (public types included)", () => {
  const offenders = files(SRC, ".ts")
    .filter((f) => !f.endsWith(".test.ts"))
    .flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .map((line, i) => ({ where: `${f.slice(SRC.length)}:${i + 1}`, line }))
        .filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && ANY_TYPE.test(line)),
    );
  assert.deepEqual(offenders, []);
});

test("the generated API docs (npm run docs:sdk → docs/sdk) show no `any` type", () => {
  const pages = files(DOCS, ".md");
  assert.ok(
    pages.some((p) => p.endsWith("GantryClient.md")),
    "docs/sdk is generated and committed",
  );
  const offenders = pages.filter((p) => /`any`|`any\[\]`|\\<`any`\\>/.test(readFileSync(p, "utf8")));
  assert.deepEqual(offenders, []);
});
