import assert from "node:assert/strict";
import { test } from "node:test";
import type { Command } from "commander";
import { createProgram } from "./registry.ts";

/** Every command that does something (has an action), with its path from `gantry`. */
function runnable(command: Command, path: string[] = []): { path: string; command: Command }[] {
  const own =
    path.length > 0 && (command as unknown as { _actionHandler: unknown })._actionHandler
      ? [{ path: path.join(" "), command }]
      : [];
  return [...own, ...command.commands.flatMap((c) => runnable(c, [...path, c.name()]))];
}

test("every gantry command takes --json (a new command without it fails here)", () => {
  const program = createProgram({ env: {}, stdout: () => {}, stderr: () => {}, exitCode: 0 });
  const commands = runnable(program);
  assert.ok(commands.length > 30, `walked ${commands.length} commands`);
  const missing = commands.filter(({ command }) => !command.options.some((o) => o.long === "--json"));
  assert.deepEqual(
    missing.map((c) => c.path),
    [],
  );
  for (const { path, command } of commands) {
    const help = command.helpInformation();
    assert.match(help, /--json/, `${path}: --json is documented in its help`);
  }
});
