import fs from "node:fs";
import path from "node:path";
import { BenchmarkPayload } from "@gantry/protocol";
import { type ExecutorContext, ExecutorError, type ExecutorJob } from "../../runner/executor.ts";
import { type CommandSpec, failUnlessZero, runCommand } from "../../shell/run-command.ts";
import { lastJsonLine } from "./last-json-line.ts";

/** Largest metrics file read. */
const MAX_METRICS_BYTES = 1024 * 1024;

/** One `benchmark` job, in its child process: pick the command, run it, collect its metrics. */
export async function runBenchmark(job: ExecutorJob, ctx: ExecutorContext): Promise<unknown> {
  const parsed = BenchmarkPayload.safeParse(job.payload);
  if (!parsed.success) throw new ExecutorError("fatal", `bad benchmark payload: ${parsed.error.issues[0]?.message}`);
  const p = parsed.data;
  let spec: CommandSpec;
  if (p.name !== undefined) {
    const b = ctx.settings.benchmarks[p.name];
    if (!b) {
      const known = Object.keys(ctx.settings.benchmarks).join(", ") || "none";
      throw new ExecutorError("fatal", `no benchmark "${p.name}" on this agent (configured: ${known})`);
    }
    const args = p.args ?? [];
    spec =
      b.command !== undefined
        ? {
            file: "bash",
            args: args.length ? ["-c", `${b.command} "$@"`, p.name, ...args] : ["-c", b.command],
            cwd: b.cwd,
            env: { ...b.env, ...p.env },
          }
        : { file: b.argv![0]!, args: [...b.argv!.slice(1), ...args], cwd: b.cwd, env: { ...b.env, ...p.env } };
  } else {
    if (!ctx.settings.allowShell) {
      throw new ExecutorError(
        "fatal",
        "arbitrary benchmark commands need --allow-shell on the agent; name a configured benchmark",
      );
    }
    const [file, ...args] = p.command !== undefined ? ["bash", "-c", p.command] : p.argv!;
    spec = { file: file!, args, env: p.env };
  }
  spec.saveLog = p.saveLog;
  const metricsFile = path.join(ctx.workDir, "metrics.json");
  const { stdoutTail, ...result } = await runCommand(spec, ctx, {
    GANTRY_JOB_ID: job.id,
    GANTRY_METRICS_FILE: metricsFile,
  });
  failUnlessZero(result, `benchmark ${p.name ?? "command"}`);
  return { name: p.name ?? null, ...result, metrics: readMetrics(metricsFile) ?? lastJsonLine(stdoutTail) ?? null };
}

function readMetrics(file: string): unknown {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (st.size > MAX_METRICS_BYTES)
    throw new ExecutorError("fatal", `$GANTRY_METRICS_FILE is over ${MAX_METRICS_BYTES} bytes`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ExecutorError("fatal", `$GANTRY_METRICS_FILE is not JSON: ${(err as Error).message}`);
  }
}
