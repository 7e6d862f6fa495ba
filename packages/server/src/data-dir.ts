import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The data directory cannot be created or written: a setup problem, reported as one line. */
export class DataDirError extends Error {
  constructor(dir: string, cause: NodeJS.ErrnoException) {
    const why = cause.code ? `${cause.code}: ${cause.message.replace(/^[A-Z]+: /, "")}` : cause.message;
    super(
      `Cannot use the data directory ${dir} (${why}). Make it writable by this user, free disk space, ` +
        "or choose another with --data DIR (GANTRY_DATA_DIR).",
      { cause },
    );
    this.name = "DataDirError";
  }
}

/**
 * Creates the data directory (0700), proves it writable with a probe file, and removes temp files a
 * crashed atomic write left behind. Throws DataDirError instead of a stack trace from deep inside.
 */
export function prepareDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.write-probe.${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
    for (const f of readdirSync(dir)) if (/^\..+\.\d+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
  } catch (err) {
    throw new DataDirError(dir, err as NodeJS.ErrnoException);
  }
}

const SETUP_ERRNOS =
  /^(EACCES|EPERM|EROFS|ENOSPC|EDQUOT|ENOTDIR|EISDIR|SQLITE_CANTOPEN|SQLITE_READONLY|SQLITE_FULL|SQLITE_IOERR)/;

/** Runs a start-up step that touches the data directory; its disk errors become DataDirError. */
export async function inDataDir<T>(dir: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string" && SETUP_ERRNOS.test(code)) throw new DataDirError(dir, err as NodeJS.ErrnoException);
    throw err;
  }
}
