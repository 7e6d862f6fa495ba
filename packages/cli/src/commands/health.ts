import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { toJson } from "../output.ts";

/** `gantry health` */
export function registerHealth(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("health")
    .description("check that the server answers (exit 0) and print its version")
    .option("--json", "print the health answer as JSON");
  addClientFlags(command).action(async (flags: ClientFlags & { json?: boolean }) => {
    const health = await clientFromFlags(flags, ctx, { requireKey: false }).health();
    const issues = (health.issues ?? []).map((i) => `  ${i.code}: ${i.message}\n`).join("");
    ctx.stdout(flags.json ? toJson(health) : `${health.status} (gantry ${health.version})\n${issues}`);
  });
}
