import { setTimeout as sleep } from "node:timers/promises";
import { defineExecutor, ExecutorError } from "../../runner/executor.ts";

/** `debug.sleep` `{ms}`: waits, reporting progress each second; stops at once when aborted. */
export default defineExecutor({
  name: "debug.sleep",
  detect: () => true,
  run: async (job, ctx) => {
    const ms = Number((job.payload as { ms?: unknown } | null)?.ms ?? 1000);
    if (!Number.isFinite(ms) || ms < 0) throw new ExecutorError("fatal", "payload.ms must be a non-negative number");
    const started = Date.now();
    let left = ms;
    while (left > 0) {
      await sleep(Math.min(left, 1000), undefined, { signal: ctx.signal });
      left = ms - (Date.now() - started);
      ctx.progress({ percent: Math.min(100, Math.round(((ms - Math.max(left, 0)) / Math.max(ms, 1)) * 100)) });
    }
    return { sleptMs: Date.now() - started };
  },
});
