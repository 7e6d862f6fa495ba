import { MultiBar, SingleBar } from "cli-progress";

/** Files smaller than this move too fast for a bar to help. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

export interface Progress {
  update(bytes: number, total: number | undefined): void;
  stop(): void;
}

const NONE: Progress = { update: () => {}, stop: () => {} };

/**
 * A progress bar on stderr for one file transfer: only on a terminal, and only for files of at least
 * PROGRESS_MIN_BYTES (size unknown: from when that many bytes have moved). Nothing on a pipe or file.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return NONE;
  let bar: SingleBar | undefined;
  let started = 0;
  return {
    update(bytes, total) {
      if (!bar) {
        if ((total ?? bytes) < PROGRESS_MIN_BYTES) return;
        bar = new SingleBar({
          stream,
          format: `${label} [{bar}] {percentage}% {value_mb}/{total_mb} MB {speed}`,
          hideCursor: true,
          clearOnComplete: false,
        });
        bar.start(total ?? 0, 0, { value_mb: "0", total_mb: mb(total), speed: "" });
        started = performance.now();
      }
      const secs = (performance.now() - started) / 1000;
      bar.update(bytes, {
        value_mb: mb(bytes),
        total_mb: mb(total),
        speed: secs > 0 ? `${(bytes / 1e6 / secs).toFixed(0)} MB/s` : "",
      });
    },
    stop() {
      bar?.stop();
    },
  };
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? "?" : (bytes / 1024 / 1024).toFixed(1);
}

/** Live job progress for `gantry job watch`: one bar per job with log lines printed above the bars. */
export interface JobBars {
  progress(jobId: string, percent: number, detail: string): void;
  /** A line to print above the bars (or plainly, off a terminal). */
  log(text: string): void;
  stop(): void;
}

/**
 * On a terminal, a cli-progress MultiBar on `stream` (stderr, so stdout stays the result). Off a
 * terminal, one plain line per progress change on `plain` instead: a log file gets every step.
 */
export function jobBars(plain: (text: string) => void, stream: NodeJS.WriteStream = process.stderr): JobBars {
  if (!stream.isTTY) {
    return {
      progress: (jobId, percent, detail) =>
        plain(`${jobId} progress ${Math.round(percent)}%${detail ? ` ${detail}` : ""}\n`),
      log: (text) => plain(text.endsWith("\n") ? text : `${text}\n`),
      stop: () => {},
    };
  }
  const multi = new MultiBar({
    stream,
    format: "{job} [{bar}] {percentage}% {detail}",
    hideCursor: true,
    clearOnComplete: false,
  });
  const bars = new Map<string, SingleBar>();
  return {
    progress(jobId, percent, detail) {
      let bar = bars.get(jobId);
      if (!bar) {
        bar = multi.create(100, 0, { job: jobId, detail: "" });
        bars.set(jobId, bar);
      }
      bar.update(Math.max(0, Math.min(100, percent)), { job: jobId, detail });
    },
    log: (text) => multi.log(text.endsWith("\n") ? text : `${text}\n`),
    stop: () => multi.stop(),
  };
}
