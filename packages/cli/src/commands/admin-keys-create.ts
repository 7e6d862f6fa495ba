import type { Command } from "commander";
import { type AdminFlags, addAdminFlags, adminFromFlags } from "../admin-flags.ts";
import { formatKeys } from "../admin-output.ts";
import type { CliContext } from "../cli-context.ts";
import { parseCommaList, parsePositiveInteger } from "../option-parsers.ts";
import { toJson } from "../output.ts";

interface Flags extends AdminFlags {
  enrolment?: boolean;
  name?: string;
  scopes?: string[];
  capabilities?: string[];
  expiresIn?: number;
  maxUses?: number;
  owner?: string;
}

/** `gantry admin keys create` (prints the secret once) */
export function registerAdminKeysCreate(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("create")
    .description("create a client key (or --enrolment key for agents); the secret is printed once")
    .option("--enrolment", "an agent-enrolment key instead of a client key")
    .option("--name <name>", "a label for listings")
    .option(
      "--scopes <list>",
      "client keys: permissions, comma-separated (default jobs:read,jobs:write)",
      parseCommaList,
    )
    .option("--capabilities <list>", "capability patterns the key is limited to, e.g. llm.*", parseCommaList)
    .option("--expires-in <secs>", "seconds until the key expires", parsePositiveInteger)
    .option("--max-uses <n>", "enrolment keys: how many agents it may enrol (1: single-use)", parsePositiveInteger)
    .option("--owner <id>", "admins: whom the key belongs to");
  addAdminFlags(command).action(async (flags: Flags) => {
    const key = await adminFromFlags(flags, ctx).createKey({
      kind: flags.enrolment ? "enrolment" : "client",
      ...(flags.name ? { name: flags.name } : {}),
      ...(flags.scopes ? { scopes: flags.scopes as never } : {}),
      ...(flags.capabilities ? { capabilities: flags.capabilities } : {}),
      ...(flags.expiresIn ? { expiresInSecs: flags.expiresIn } : {}),
      ...(flags.maxUses ? { maxUses: flags.maxUses } : {}),
      ...(flags.owner ? { owner: flags.owner } : {}),
    });
    ctx.stdout(flags.json ? toJson(key) : `${formatKeys([key])}key (shown once): ${key.key}\n`);
  });
}
