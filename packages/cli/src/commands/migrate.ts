import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { StartupError } from "../startup-error.ts";

interface MigrateFlags {
  from: string;
  to: string;
  json?: boolean;
}

/** `gantry migrate --from sqlite:DIR --to postgres://…`: moves an embedded deployment to PostgreSQL. */
export function registerMigrate(parent: Command, ctx: CliContext): void {
  parent
    .command("migrate")
    .description("copy an embedded deployment (SQLite in a data dir) into PostgreSQL, all or nothing")
    .requiredOption("--from <sqlite:DIR>", "the data directory of the embedded server, e.g. sqlite:./.gantry")
    .requiredOption("--to <url>", "postgres://user@host/db[?schema=NAME] (must hold no jobs yet)")
    .option("--json", "print the rows copied per table as JSON")
    .action(async (flags: MigrateFlags) => {
      if (!flags.from.startsWith("sqlite:")) throw new StartupError("--from must be sqlite:DIR");
      if (!/^postgres(ql)?:\/\//.test(flags.to)) throw new StartupError("--to must be a postgres:// URL");
      const dir = resolve(flags.from.slice("sqlite:".length));
      const { copySqliteToPostgres } = await import("@gantry/server");
      const report = await copySqliteToPostgres(dir, flags.to).catch((err: unknown) => {
        throw new StartupError(`migrate failed, nothing was written: ${(err as Error).message}`);
      });
      if (flags.json) {
        ctx.stdout(`${JSON.stringify({ rows: report.rows, dataDir: dir, blobDir: resolve(dir, "blobs") }, null, 2)}\n`);
        return;
      }
      for (const [table, n] of Object.entries(report.rows)) ctx.stdout(`${table.padEnd(16)} ${n}\n`);
      ctx.stdout(
        `done. Start the replicas with --db ${flags.to} and --data ${dir} (keys.json, bootstrap.json) ` +
          `and --blob-dir ${resolve(dir, "blobs")} (or a shared copy of it).\n`,
      );
    });
}
