import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import type { CliContext } from "./cli-context.ts";

/**
 * The `gantry` program with no subcommands: its settings (exit override, output) are inherited by
 * every subcommand added with `program.command(…)`. registry.ts adds them all; agent-main.ts only
 * `gantry agent`'s.
 */
export function createRootProgram(ctx: CliContext): Command {
  return new Command("gantry")
    .description("Gantry: offload compute jobs to a fleet of agents")
    .version(pkg.version, "-V, --version", "print the gantry version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput({ writeOut: ctx.stdout, writeErr: ctx.stderr })
    .showHelpAfterError("(add --help for usage)");
}
