import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { unsafeFileNameReason } from "@gantry/protocol";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { toJson } from "../output.ts";
import { progressBar } from "../progress-bar.ts";
import { UsageError } from "../usage-error.ts";

interface DownloadFlags extends ClientFlags {
  output?: string;
  json?: boolean;
}

/** `gantry job download <id> [name] [-o dir]` */
export function registerJobDownload(parent: Command, ctx: CliContext): void {
  const command = parent
    .command("download")
    .description("download a job's output files (all of them, or the one named) into a directory")
    .argument("<id>", "job id")
    .argument("[name]", "the output file to download (default: every output file)")
    .option("-o, --output <dir>", "directory to write into, created if missing (default: the current directory)")
    .option("--json", "print what was downloaded as JSON");
  addClientFlags(command).action(async (id: string, name: string | undefined, flags: DownloadFlags) => {
    const client = clientFromFlags(flags, ctx);
    const dir = resolve(flags.output ?? ".");
    const files = await client.listJobFiles(id);
    const wanted = name === undefined ? files : files.filter((f) => f.name === name);
    if (name !== undefined && wanted.length === 0) {
      throw new UsageError(
        `job ${id} has no output file "${name}" (it has: ${files.map((f) => f.name).join(", ") || "none"})`,
      );
    }
    mkdirSync(dir, { recursive: true });
    const done = [];
    for (const f of wanted) {
      // The server refuses unsafe names; check again so a file can never land outside `dir`.
      if (unsafeFileNameReason(f.name)) throw new UsageError(`refusing unsafe file name ${JSON.stringify(f.name)}`);
      mkdirSync(dirname(join(dir, f.name)), { recursive: true });
      const bar = progressBar(`download ${f.name}`);
      try {
        const got = await client.downloadJobFile(id, f.name, join(dir, f.name), {
          onProgress: (p) => bar.update(p.bytes, p.total ?? f.size),
        });
        done.push(got);
      } finally {
        bar.stop();
      }
      if (!flags.json) ctx.stdout(`${join(dir, f.name)} ${f.size} bytes sha256:${f.hash}\n`);
    }
    if (flags.json) ctx.stdout(toJson(done));
    else if (done.length === 0) ctx.stdout(`job ${id} has no output files\n`);
  });
}
