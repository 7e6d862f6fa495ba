import { ErrorCategory } from "@gantry/protocol";
import { defineExecutor, ExecutorError } from "../../runner/executor.ts";

/**
 * `debug.fail` `{failAttempts:n, category?}`: fails while attempt <= n (category default transient),
 * then succeeds with `{attempt}`. Exercises retries and error categories.
 */
export default defineExecutor({
  name: "debug.fail",
  light: true,
  detect: () => true,
  run: async (job) => {
    const p = (job.payload ?? {}) as { failAttempts?: unknown; category?: unknown };
    const failAttempts = typeof p.failAttempts === "number" ? p.failAttempts : Number.POSITIVE_INFINITY;
    const category = ErrorCategory.safeParse(p.category ?? "transient");
    if (job.attempt <= failAttempts) {
      throw new ExecutorError(
        category.success ? category.data : "transient",
        `debug.fail: attempt ${job.attempt} fails`,
      );
    }
    return { attempt: job.attempt };
  },
});
