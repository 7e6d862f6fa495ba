import type { CapabilitySummary } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { toJson } from "../output.ts";

/** `gantry capabilities`: what the fleet can run now. */
export function registerCapabilities(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("capabilities")
    .description("list capabilities with online agents, free slots, queued jobs and attributes")
    .option("--json", 'print {"capabilities":[…]} as JSON');
  addClientFlags(command).action(async (flags: ClientFlags & { json?: boolean }) => {
    const capabilities = await clientFromFlags(flags, ctx).capabilities();
    ctx.stdout(flags.json ? toJson({ capabilities }) : formatCapabilities(capabilities));
  });
}

export function formatCapabilities(caps: readonly CapabilitySummary[]): string {
  if (caps.length === 0) return "no capabilities\n";
  const rows = [
    ["CAPABILITY", "AGENTS", "FREE", "QUEUED", "ATTRIBUTES"],
    ...caps.map((c) => [
      c.name,
      String(c.agents),
      String(c.freeSlots),
      String(c.queued),
      Object.entries(c.attributes)
        .map(([k, v]) => (v === true ? k : `${k}:${v}`))
        .join(";"),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}
