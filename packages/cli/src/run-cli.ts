import { CommanderError } from "commander";
import type { CliContext } from "./cli-context.ts";
import { loadEnv } from "./env.ts";
import { describeError, EXIT, exitCodeForError } from "./exit-codes.ts";
import { createProgram } from "./registry.ts";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs one `gantry` invocation (argv without node and script) and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let ctx: CliContext;
  try {
    ctx = { env: loadEnv(), ...io, exitCode: EXIT.ok };
  } catch (error) {
    io.stderr(`${describeError(error)}\n`);
    return exitCodeForError(error);
  }
  try {
    await createProgram(ctx).parseAsync([...argv], { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    // Commander has already printed its own message (and help hint).
    if (!(error instanceof CommanderError)) ctx.stderr(`${describeError(error)}\n`);
    return exitCodeForError(error);
  }
}
