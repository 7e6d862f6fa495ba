import type { OpenAiModel } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { table, toJson } from "../output.ts";

/** `gantry models`: the llm models online across the fleet. */
export function registerModels(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("models")
    .description("list the llm models online across the fleet (those `gantry llm` and /v1/chat/completions take)")
    .option("--json", 'print {"models":[…]} as JSON');
  addClientFlags(command).action(async (flags: ClientFlags & { json?: boolean }) => {
    const models = await clientFromFlags(flags, ctx).llm.models();
    ctx.stdout(flags.json ? toJson({ models }) : formatModels(models));
  });
}

export function formatModels(models: readonly OpenAiModel[]): string {
  if (models.length === 0) return "no models online\n";
  return table([
    ["MODEL", "AGENTS", "ATTRIBUTES"],
    ...models.map((m) => [
      m.id,
      String(m.agents),
      Object.entries(m.attributes)
        .map(([k, v]) => (v === true ? k : `${k}:${v}`))
        .join(";"),
    ]),
  ]);
}
