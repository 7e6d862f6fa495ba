import { fork } from "node:child_process";
import fs from "node:fs";
import { JobProgress } from "@gantry/protocol";
import { LineSplitter } from "../shell/line-splitter.ts";
import { BUNDLED } from "./bundled.ts";
import type { FromChild, ToChild } from "./child-messages.ts";
import { type Executor, type ExecutorContext, ExecutorError, type ExecutorJob } from "./executor.ts";

const CHILD_ENTRY = BUNDLED
  ? new URL("./agent-child.mjs", import.meta.url)
  : new URL("./child-entry.ts", import.meta.url);
/** The child's own stderr kept for a crash report. */
const STDERR_TAIL = 4096;

/** How often a child's memory is sampled when there is a limit. */
const MEMORY_SAMPLE_MS = 250;

/** Resident memory of a process in MB (Linux /proc), 0 when unknown. */
function residentMb(pid: number): number {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Signals that say the executor's code crashed (not that someone stopped it). */
const CRASH_SIGNALS = new Set(["SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGSYS", "SIGTRAP"]);

/**
 * Wraps a `process`-isolated executor: each job runs in a fresh child process (child-entry.ts) that
 * leads its own process group. Abort sends SIGTERM to the group and SIGKILL after `killGraceMs`; when
 * the job ends the group is killed anyway, so nothing it started outlives the job. A crash fails the
 * job and leaves the agent (and this thread) running.
 */
export function inChildProcess(ex: Executor, module: string): Executor {
  const { health: _h, unload: _u, ...rest } = ex; // state lives in per-job children, not here
  return { ...rest, run: (job, ctx) => runInChild(module, job, ctx) };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function runInChild(module: string, job: ExecutorJob, ctx: ExecutorContext): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_ENTRY, [], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: ctx.settings.inheritEnv,
      execArgv: process.execArgv.filter((a) => !a.startsWith("--inspect")),
      serialization: "json",
    });
    const pid = child.pid;
    let settled = false;
    let stderrTail = "";
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener("abort", onAbort);
      clearInterval(watch);
      killGroup(pid, "SIGKILL"); // whatever the job started and left behind
      fn();
    };
    // The executor's own console output goes to the job's log too.
    for (const [name, stream] of [
      ["stdout", child.stdout],
      ["stderr", child.stderr],
    ] as const) {
      const lines = new LineSplitter(
        (l) => ctx.log(name, l),
        (n) => ctx.logDropped(n),
      );
      stream?.on("data", (d: Buffer) => {
        if (name === "stderr") stderrTail = (stderrTail + d.toString()).slice(-STDERR_TAIL);
        lines.push(d);
      });
    }
    const onAbort = () => {
      const msg: ToChild = { t: "abort", reason: ctx.signal.reason };
      if (child.connected) child.send(msg, () => {});
      killGroup(pid, "SIGTERM");
      setTimeout(() => killGroup(pid, "SIGKILL"), ctx.settings.killGraceMs).unref();
    };
    // A leak is stopped before it takes the machine: the child's resident memory, sampled.
    let overMb = 0;
    const limitMb = ctx.settings.maxChildMemoryMb;
    const watch =
      limitMb > 0 && pid !== undefined
        ? setInterval(() => {
            const mb = residentMb(pid);
            if (mb <= limitMb) return;
            overMb = mb;
            killGroup(pid, "SIGKILL");
          }, MEMORY_SAMPLE_MS)
        : undefined;
    watch?.unref();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (ctx.signal.aborted) onAbort(); // aborted before the child even started
    child.on("message", (msg: FromChild) => {
      if (settled || typeof msg !== "object" || msg === null) return;
      if (msg.t === "logs" && Array.isArray(msg.lines)) {
        for (const [s, l] of msg.lines) ctx.log(s === "stderr" ? "stderr" : "stdout", String(l));
      } else if (msg.t === "progress") {
        const p = JobProgress.safeParse(msg.p); // the wire's bounds, checked before it leaves the thread
        if (p.success) ctx.progress(p.data);
      } else if (msg.t === "done" && msg.ok === true) {
        if (typeof msg.json !== "string" || msg.json.length > ctx.settings.maxOutputBytes) {
          finish(() => reject(new ExecutorError("fatal", "the executor process returned an unusable output")));
        } else finish(() => resolve(JSON.parse(msg.json)));
      } else if (msg.t === "done" && msg.ok === false) {
        finish(() => reject(new ExecutorError(msg.error.category, msg.error.message, msg.error.code)));
      }
    });
    child.on("error", (err) =>
      finish(() => reject(new ExecutorError("transient", `executor process: ${err.message}`))),
    );
    child.on("exit", (code, signal) => {
      const settle = () =>
        finish(() => {
          if (ctx.signal.aborted) return reject(ctx.signal.reason);
          if (overMb > 0) {
            const message = `the executor process used ${Math.round(overMb)} MB, over the limit of ${limitMb} MB, and was killed`;
            return reject(new ExecutorError("transient", message, "executor_memory"));
          }
          reject(crashError(code, signal, stderrTail));
        });
      // `exit` can come before the last IPC messages are read: a result sent just before exiting
      // still counts. The channel closes once they are delivered.
      if (!child.connected) return settle();
      const t = setTimeout(settle, 2000);
      child.once("disconnect", () => {
        clearTimeout(t);
        settle();
      });
    });
    const run: ToChild = {
      t: "run",
      module,
      job,
      settings: ctx.settings,
      inputPaths: ctx.inputPaths,
      outputDir: ctx.outputDir,
      workDir: ctx.workDir,
    };
    child.send(run);
  });
}

/** Why a child process ended without a result: a crash is fatal (it would crash again); a SIGKILL is likely memory. */
function crashError(code: number | null, signal: NodeJS.Signals | null, stderr: string): ExecutorError {
  const tail = stderr.trim() ? `; its stderr ends: ${stderr.trim().slice(-1000)}` : "";
  if (signal && CRASH_SIGNALS.has(signal)) {
    return new ExecutorError("fatal", `the executor process crashed (${signal})${tail}`, "executor_crashed");
  }
  if (signal === "SIGKILL") {
    return new ExecutorError(
      "transient",
      `the executor process was killed (SIGKILL, perhaps out of memory)${tail}`,
      "executor_killed",
    );
  }
  const how = signal ? `was ended by ${signal}` : `exited with code ${code}`;
  return new ExecutorError("fatal", `the executor process ${how} before finishing the job${tail}`, "executor_exited");
}
