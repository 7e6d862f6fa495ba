import fs from "node:fs";
import path from "node:path";

export const PID_FILE = "agent.pid";

/** Is a process with this PID alive (and ours to signal)? */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The PID of the agent running with this data directory, or null. */
export function readPid(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(dataDir, PID_FILE), "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Claims the data directory for this process: two agents sharing one outbox would corrupt it.
 * Throws if another live agent holds it. Returns a release function.
 */
export function claimPidFile(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, PID_FILE);
  const other = readPid(dataDir);
  if (other !== null && other !== process.pid) {
    throw new Error(`another agent (pid ${other}) is running with data directory ${dataDir}; stop it first`);
  }
  fs.writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => {
    try {
      if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}
