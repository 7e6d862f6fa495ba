import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { CommandResult } from "@gantry/protocol";
import { type ExecutorContext, ExecutorError } from "../runner/executor.ts";
import { LineSplitter } from "./line-splitter.ts";

/** A command ready to start: no shell unless `file` is bash. */
export interface CommandSpec {
  file: string;
  args: string[];
  /** Absolute, or relative to the job's working directory. */
  cwd?: string | undefined;
  /** Added to the inherited allow-list (settings.inheritEnv) and the GANTRY_* variables. */
  env?: Record<string, string> | undefined;
  /** Keep the whole output (both streams, as printed) in `<outputDir>/output.log`. */
  saveLog?: boolean | undefined;
}

/** Bytes of stdout kept to find the metrics line at the end. */
const STDOUT_TAIL = 65_536;

/**
 * Runs a command for a job: stdout and stderr become log lines as they come (bounded by the job's
 * log budget; past it the output is only counted, or written to `output.log` with backpressure), so
 * memory stays flat whatever it prints. It runs in the executor child's process group: the runner
 * kills the group on cancel or runtime limit. Resolves when it exits, with the tail of its stdout.
 */
export async function runCommand(
  spec: CommandSpec,
  ctx: ExecutorContext,
  extraEnv: Record<string, string> = {},
): Promise<CommandResult & { stdoutTail: string }> {
  const cwd = spec.cwd ? path.resolve(ctx.workDir, spec.cwd) : ctx.workDir;
  if (!fs.existsSync(cwd)) throw new ExecutorError("fatal", `cwd ${cwd} does not exist`);
  // Inputs sit in the attempt's in/ folder, beside work/ (job-workspace.ts), under their relative names.
  const hasInputs = Object.keys(ctx.inputPaths).length > 0;
  const env = {
    ...ctx.settings.inheritEnv,
    GANTRY_WORK_DIR: ctx.workDir,
    GANTRY_OUTPUT_DIR: ctx.outputDir,
    ...(hasInputs ? { GANTRY_INPUT_DIR: path.join(path.dirname(ctx.workDir), "in") } : {}),
    ...extraEnv,
    ...spec.env,
  };
  const started = performance.now();
  const child = spawn(spec.file, spec.args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const log = spec.saveLog ? fs.createWriteStream(path.join(ctx.outputDir, "output.log")) : undefined;
  let dropped = 0;
  let tail = Buffer.alloc(0);
  const streams = [
    ["stdout", child.stdout],
    ["stderr", child.stderr],
  ] as const;
  for (const [name, stream] of streams) {
    const lines = new LineSplitter(
      (l) => {
        if (ctx.log(name, l)) return true;
        dropped += Buffer.byteLength(l) + 1; // the refused line (the log counted it too)
        return false;
      },
      (n) => {
        dropped += n;
        ctx.logDropped(n);
      },
    );
    stream.on("data", (d: Buffer) => {
      lines.push(d);
      if (name === "stdout") tail = Buffer.concat([tail, d]).subarray(-STDOUT_TAIL);
      // A slow disk pauses the command's output rather than buffering it here.
      if (log && !log.write(d)) {
        stream.pause();
        log.once("drain", () => stream.resume());
      }
    });
    stream.on("end", () => lines.end());
  }
  const onAbort = () => child.kill("SIGTERM");
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once("error", (err) => reject(new ExecutorError("fatal", `cannot start ${spec.file}: ${err.message}`)));
      // `exit`, not `close`: a background process left holding stdout must not keep the job open.
      child.once("exit", (code, sig) => {
        const done = () => resolve([code, sig]);
        if (child.stdout.readableEnded && child.stderr.readableEnded) done();
        else {
          const t = setTimeout(done, 500);
          child.once("close", () => {
            clearTimeout(t);
            done();
          });
        }
      });
    });
    await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const result = {
      exitCode,
      signal,
      durationMs: Math.round(performance.now() - started),
      ...(dropped > 0 ? { droppedLogBytes: dropped } : {}),
    };
    return { ...result, stdoutTail: tail.toString("utf8") };
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    log?.destroy();
  }
}

/** A command that did not exit 0 fails the job, with the exit code (or signal) in the message. */
export function failUnlessZero(r: CommandResult, what: string): void {
  if (r.exitCode === 0) return;
  const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  throw new ExecutorError("inference", `${what} ${how}`, r.signal ? "command_killed" : "command_failed");
}
