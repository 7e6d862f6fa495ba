import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { formatAgents, toJson } from "../output.ts";

/** `gantry agents` */
export function registerAgentsList(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("agents")
    .description("list registered agents with their capabilities, tier, capacity and liveness")
    .option("--json", 'print {"agents":[…]} as JSON');
  addClientFlags(command).action(async (flags: ClientFlags & { json?: boolean }) => {
    const agents = await clientFromFlags(flags, ctx).agents();
    ctx.stdout(flags.json ? toJson({ agents }) : formatAgents(agents));
  });
}
