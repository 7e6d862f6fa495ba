import { ErrorCategory, type JobError } from "@gantry/protocol";

/** Turns what an executor threw into a JobError: its category if it gave one (ExecutorError), else `inference`. */
export function toJobError(err: unknown, signal: AbortSignal): JobError {
  if (signal.aborted) return { category: "cancelled", message: `aborted: ${String(signal.reason)}` };
  const e = err as { category?: unknown; message?: unknown; code?: unknown };
  const category = ErrorCategory.safeParse(e?.category);
  const error: JobError = {
    category: category.success ? category.data : "inference",
    message: String(e?.message ?? err).slice(0, 10_000),
  };
  if (typeof e?.code === "string") error.code = e.code.slice(0, 100);
  return error;
}
