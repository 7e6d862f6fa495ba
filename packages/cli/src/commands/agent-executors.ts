import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { listExecutors } from "@gantry/agent";
import type { Command } from "commander";
import { wantsJson } from "../subcommand-json.ts";

interface Io {
  stdout: (text: string) => void;
}

/** `gantry agent executors`: each executor, the capability it serves, available or not, and why not. */
export function registerAgentExecutors(agent: Command, io: Io): void {
  agent
    .command("executors")
    .description("list the executors this agent would load: available or not, and why not")
    .option("--json", "print the list as JSON")
    .action(async (_flags: unknown, cmd: Command) => {
      // --config, --data, --executor and --allow-shell are the parent's options.
      const g = cmd.optsWithGlobals() as {
        config?: string;
        data?: string;
        executor?: string[];
        allowShell?: boolean;
        json?: boolean;
      };
      const list = await listExecutors({
        configPath: g.config,
        dataDir: g.data,
        executors: g.executor?.map((s) => (s.startsWith(".") || isAbsolute(s) ? pathToFileURL(resolve(s)).href : s)),
        allowShell: g.allowShell,
      });
      if (wantsJson(cmd)) {
        io.stdout(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = list.map((d) => [
        d.detected ? "yes" : "no",
        d.attributes.length ? `${d.name}[${d.attributes.join(";")}]` : d.name,
        d.executor,
        d.isolation ?? "-",
        d.problem ?? "",
      ]);
      const head = ["AVAILABLE", "CAPABILITY", "EXECUTOR", "ISOLATION", "WHY NOT"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows])
        io.stdout(
          `${r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd()}\n`,
        );
    });
}
