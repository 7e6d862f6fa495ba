/**
 * Errors that mean the disk is full or the data directory cannot be written: SQLite's FULL, IOERR
 * and READONLY families, and the file system's ENOSPC, EDQUOT and EROFS. Not the caller's fault and
 * not a bug: clients get 507 storage_full, agents a retryable answer, /healthz says degraded.
 */
const STORAGE_CODES = /^(SQLITE_FULL|SQLITE_IOERR|SQLITE_READONLY|ENOSPC|EDQUOT|EROFS)/;

export function isStorageFullError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && STORAGE_CODES.test(code);
}

/** What a storage failure says, for /healthz and the log. */
export function describeStorageError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `${e.code ?? "error"}: ${e.message ?? String(err)}`;
}
