import { createProgram } from "./registry.ts";
import { type CliIo, processIo, runProgram } from "./run-program.ts";

export type { CliIo } from "./run-program.ts";

/** Runs one `gantry` invocation (argv without node and script) and returns its exit code. */
export function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(argv, io, createProgram);
}
