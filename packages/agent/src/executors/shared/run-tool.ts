import { spawn } from "node:child_process";
import { ExecutorError } from "../../runner/executor.ts";

export interface RunToolOptions {
  signal: AbortSignal;
  /** Wall-clock limit; the process is killed past it. */
  timeoutMs: number;
  /** Called with each complete stdout line (ffmpeg's `-progress pipe:1`). */
  onLine?: (line: string) => void;
  /** Keep stdout (ffprobe's JSON) up to this many bytes. @defaultValue 0 */
  maxStdout?: number;
}

const STDERR_TAIL = 2000;

/**
 * Runs ffmpeg/ffprobe with a time limit, killed (SIGKILL) on abort or timeout so nothing outlives
 * the job. Failures are fatal: the same input fails the same way on any agent.
 */
export function runTool(command: string, args: string[], options: RunToolOptions): Promise<string> {
  const { signal, timeoutMs, onLine, maxStdout = 0 } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let pending = "";
    let stderr = "";
    let timedOut = false;
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    signal.addEventListener("abort", kill, { once: true });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < maxStdout) stdout += chunk.slice(0, maxStdout - stdout.length);
      if (!onLine) return;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", kill);
      const why = err.code === "ENOENT" ? `${command} is not on PATH` : `${command} failed to start: ${err.message}`;
      reject(new ExecutorError("fatal", why, "tool_missing"));
    });
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", kill);
      if (signal.aborted) return reject(signal.reason);
      if (timedOut) {
        return reject(new ExecutorError("fatal", `${command} ran past its ${timeoutMs / 1000}s limit`, "tool_timeout"));
      }
      if (code === 0) return resolve(stdout);
      const detail = stderr.trim().split("\n").slice(-3).join("; ") || `exit ${code ?? sig}`;
      reject(new ExecutorError("fatal", `${command} failed: ${detail}`, "tool_failed"));
    });
  });
}
