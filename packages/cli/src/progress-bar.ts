import { SingleBar } from "cli-progress";

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
