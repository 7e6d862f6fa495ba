import { type Logger, pino } from "pino";

export interface LoggerOptions {
  /** pino level (trace, debug, info, warn, error, fatal, silent). @defaultValue "info" */
  level?: string;
  /** Write to this file, rotated by size (pino-roll), instead of stdout. */
  file?: string;
  /** Rotate the log file at this size. @defaultValue "10m" */
  rotateSize?: string;
  /** Rotated files kept besides the current one. @defaultValue 5 */
  keep?: number;
}

/**
 * The agent's logger. Stdout writes are synchronous so nothing is lost when the process exits right
 * after a warning (the SIGSTOP test reads "stale epoch" from our output). Secrets are redacted.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? "info",
    base: { pid: process.pid, component: "agent" },
    redact: ["key", "apiKey", "token", "jwtToken", "*.key", "*.apiKey", "*.token"],
  };
  if (options.file) {
    const transport = pino.transport({
      target: "pino-roll",
      options: {
        file: options.file,
        size: options.rotateSize ?? "10m",
        limit: { count: options.keep ?? 5 },
        mkdir: true,
      },
    });
    return pino(base, transport);
  }
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
