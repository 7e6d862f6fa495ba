import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Agent, startAgent } from "@gantry/agent";
import { type TestServer, testServer } from "./test-server.ts";

/** The `gantry` launcher as users run it. */
export const GANTRY = fileURLToPath(new URL("../../packages/cli/bin/gantry.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `gantry` CLI with only the given environment (plus PATH) and collects what it printed;
 * `input`, when given, is its stdin (then closed).
 */
export function runGantry(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GANTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    // No input: stdin closed at once (EOF), as when nothing is piped.
    child.stdin.end(input ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A server plus one in-process shell-enabled agent, for suites that drive the CLI against a real agent. */
export async function serverWithShellAgent(dir: string, name: string): Promise<{ t: TestServer; agent: Agent }> {
  const t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 50, logLevel: "warn" });
  const agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir, `${name}.json`),
    dataDir: join(dir, name),
    allowShell: true,
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  });
  return { t, agent };
}
