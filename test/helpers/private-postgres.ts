import { execFile } from "node:child_process";
import { chownSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./processes.ts";
import { tempDir } from "./temp-dir.ts";

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb in a temp dir, on a free loopback port), so a test
 * can crash and restart it without touching the machine's shared server. Null when no PostgreSQL
 * binaries are installed.
 */
export interface PrivatePostgres {
  url: string;
  /** Crash-stops the cluster (`pg_ctl stop -m immediate`: no checkpoint, recovery on start) and starts it again. */
  crashRestart(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  const dir = version ? join(root, version, "bin") : null;
  return dir && existsSync(join(dir, "initdb")) ? dir : null;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres | null> {
  const bin = binDir();
  if (!bin) return null;
  const dir = tempDir("gantry-pg-");
  const data = join(dir.path, "data");
  const port = await freePort();
  // initdb refuses to run as root: as root, run the cluster as the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir.path, Number(stdout.trim()), Number(gid.trim()));
  }
  const pgCmd = (tool: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args);
  await pgCmd("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir.path} -c max_connections=100`;
  const start = () => pgCmd("pg_ctl", ["start", "-w", "-D", data, "-l", join(dir.path, "log"), "-o", options]);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crashRestart: async () => {
      await pgCmd("pg_ctl", ["stop", "-m", "immediate", "-D", data]);
      await start();
    },
    stop: async () => {
      await pgCmd("pg_ctl", ["stop", "-m", "immediate", "-D", data]).catch(() => {});
      dir.remove();
    },
  };
}
