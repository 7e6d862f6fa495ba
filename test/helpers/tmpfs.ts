import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";

/**
 * Mounts a small tmpfs at `dir` (needs root or CAP_SYS_ADMIN). Returns an unmount function, or a
 * reason string when mounting is not permitted here, for the test to skip with.
 */
export function mountTmpfs(dir: string, options: string): (() => void) | string {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    return `cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
  return () => execFileSync("umount", ["-l", dir], { stdio: "pipe" });
}

/** Writes zeros into the file `path` until its file system says ENOSPC. */
export function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}
