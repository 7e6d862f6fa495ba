import { type Command, CommanderError } from "commander";
import type { CliContext } from "./cli-context.ts";
import { loadEnv } from "./env.ts";
import { describeError, EXIT, exitCodeForError } from "./exit-codes.ts";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs one invocation (argv without node and script) of the program `create` builds; returns its exit code. */
export async function runProgram(
  argv: readonly string[],
  io: CliIo,
  create: (ctx: CliContext) => Command,
): Promise<number> {
  let ctx: CliContext;
  try {
    ctx = { env: loadEnv(), ...io, exitCode: EXIT.ok };
  } catch (error) {
    io.stderr(`${describeError(error)}\n`);
    return exitCodeForError(error);
  }
  try {
    await create(ctx).parseAsync([...argv], { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    // Commander has already printed its own message (and help hint).
    if (!(error instanceof CommanderError)) ctx.stderr(`${describeError(error)}\n`);
    return exitCodeForError(error);
  }
}
