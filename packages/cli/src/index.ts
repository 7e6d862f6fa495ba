export type { CliContext } from "./cli-context.ts";
export { CliEnv, parseEnv } from "./env.ts";
export { describeError, EXIT, exitCodeForError, exitCodeForJob } from "./exit-codes.ts";
export { createProgram } from "./registry.ts";
export { type CliIo, runCli } from "./run-cli.ts";
