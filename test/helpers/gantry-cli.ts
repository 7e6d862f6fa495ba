import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `gantry` launcher as users run it. */
export const GANTRY = fileURLToPath(new URL("../../packages/cli/bin/gantry.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `gantry` CLI with only the given environment (plus PATH) and collects what it printed. */
export function runGantry(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GANTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
