import type { Command } from "commander";
import type { CliContext } from "./cli-context.ts";
import { registerAdminAgentsRevoke } from "./commands/admin-agents-revoke.ts";
import { registerAdminAudit } from "./commands/admin-audit.ts";
import { registerAdminKeysCreate } from "./commands/admin-keys-create.ts";
import { registerAdminKeysList } from "./commands/admin-keys-list.ts";
import { registerAdminKeysRevoke } from "./commands/admin-keys-revoke.ts";
import { registerAdminUsersCreate } from "./commands/admin-users-create.ts";
import { registerAdminUsersDelete } from "./commands/admin-users-delete.ts";
import { registerAdminUsersList } from "./commands/admin-users-list.ts";
import { registerAdminUsersUpdate } from "./commands/admin-users-update.ts";
import { registerAgentCommands } from "./commands/agent.ts";
import { registerAgentsList } from "./commands/agents-list.ts";
import { registerCapabilities } from "./commands/capabilities.ts";
import { registerDev } from "./commands/dev.ts";
import { registerHealth } from "./commands/health.ts";
import { registerJobCancel } from "./commands/job-cancel.ts";
import { registerJobDownload } from "./commands/job-download.ts";
import { registerJobGet } from "./commands/job-get.ts";
import { registerJobList } from "./commands/job-list.ts";
import { registerJobLogs } from "./commands/job-logs.ts";
import { registerJobRetry } from "./commands/job-retry.ts";
import { registerJobSubmit } from "./commands/job-submit.ts";
import { registerJobWatch } from "./commands/job-watch.ts";
import { registerLlm } from "./commands/llm.ts";
import { registerLogin, registerLogout } from "./commands/login.ts";
import { registerMigrate } from "./commands/migrate.ts";
import { registerModels } from "./commands/models.ts";
import { registerServer } from "./commands/server.ts";
import { createRootProgram } from "./root-program.ts";

/**
 * The one registry of `gantry` subcommands. Settings made on the program before `.command()` (exit
 * override, output) are inherited by every subcommand, so each register function adds its command
 * with `parent.command(…)`.
 */
export function createProgram(ctx: CliContext): Command {
  const program = createRootProgram(ctx);

  registerServer(program, ctx);
  registerDev(program, ctx);
  registerMigrate(program, ctx);
  registerAgentCommands(program, ctx);
  registerJobSubmit(program, ctx);
  registerAgentsList(program, ctx);
  registerHealth(program, ctx);
  registerCapabilities(program, ctx);
  registerModels(program, ctx);
  registerLlm(program, ctx);
  registerLogin(program, ctx);
  registerLogout(program, ctx);

  const job = program.command("job").description("submit, inspect and manage jobs");
  registerJobSubmit(job, ctx);
  registerJobGet(job, ctx);
  registerJobList(job, ctx);
  registerJobCancel(job, ctx);
  registerJobRetry(job, ctx);
  registerJobLogs(job, ctx);
  registerJobWatch(job, ctx);
  registerJobDownload(job, ctx);

  // seed 001's cl-admin: users, keys, agent revocation, audit.
  const admin = program.command("admin").description("manage users, API keys and agents; read the audit log");
  const users = admin.command("users").description("user accounts (admins)");
  registerAdminUsersList(users, ctx);
  registerAdminUsersCreate(users, ctx);
  registerAdminUsersUpdate(users, ctx);
  registerAdminUsersDelete(users, ctx);
  const keys = admin.command("keys").description("API keys: client and agent-enrolment");
  registerAdminKeysList(keys, ctx);
  registerAdminKeysCreate(keys, ctx);
  registerAdminKeysRevoke(keys, ctx);
  const agents = admin.command("agents").description("agents");
  registerAdminAgentsRevoke(agents, ctx);
  registerAdminAudit(admin, ctx);
  return program;
}
