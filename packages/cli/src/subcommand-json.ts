import type { Command } from "commander";
/**
 * `--json` of an `agent` subcommand. The parent `agent` has a --json of its own, and commander gives an
 * option both define to the parent wherever it is written, so read it with the parent's options too.
 */
export function wantsJson(cmd: Command): boolean {
  return (cmd.optsWithGlobals() as { json?: boolean }).json === true;
}
