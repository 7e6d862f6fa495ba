import type { CliEnv } from "./env.ts";

/** What every command gets: the parsed environment, output streams and the exit code to end with. */
export interface CliContext {
  env: CliEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set by commands whose outcome is not an error but still not success (a failed job). */
  exitCode: number;
}
