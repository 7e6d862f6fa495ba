import assert from "node:assert/strict";
import { test } from "node:test";
import { BenchmarkPayload, ShellBashPayload } from "./executor-payloads.ts";

test("shell.bash takes exactly one of command or argv, and portable env names", () => {
  assert.ok(ShellBashPayload.safeParse({ command: "ls" }).success);
  assert.ok(ShellBashPayload.safeParse({ argv: ["ls", "-l"], env: { A_1: "x" } }).success);
  assert.ok(!ShellBashPayload.safeParse({}).success);
  assert.ok(!ShellBashPayload.safeParse({ command: "ls", argv: ["ls"] }).success);
  assert.ok(!ShellBashPayload.safeParse({ command: "ls", env: { "A=B": "x" } }).success);
  assert.ok(!ShellBashPayload.safeParse({ command: "ls", extra: 1 }).success);
});

test("oversized shell.bash payloads are refused", () => {
  assert.ok(!ShellBashPayload.safeParse({ command: "x".repeat(65_537) }).success);
  const env = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, "x"]));
  assert.ok(!ShellBashPayload.safeParse({ command: "ls", env }).success);
});

test("benchmark takes exactly one of name, command or argv", () => {
  assert.ok(BenchmarkPayload.safeParse({ name: "matmul", args: ["--n", "4"] }).success);
  assert.ok(BenchmarkPayload.safeParse({ command: "./bench" }).success);
  assert.ok(!BenchmarkPayload.safeParse({ name: "a", command: "b" }).success);
  assert.ok(!BenchmarkPayload.safeParse({ args: [] }).success);
});
