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

/**
 * The output as JSON text, or a `fatal` error saying why it cannot be one: not serialisable
 * (BigInt, a cycle, too deep to walk) or over `maxBytes`.
 */
export function outputJson(output: unknown, maxBytes: number): { json: string } | { error: JobError } {
  let json: string | undefined;
  try {
    json = JSON.stringify(output === undefined ? null : output);
  } catch (err) {
    return { error: { category: "fatal", message: `output is not JSON-serialisable: ${(err as Error).message}` } };
  }
  if (json === undefined)
    return { error: { category: "fatal", message: `output is not JSON-serialisable (${typeof output})` } };
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    return {
      error: {
        category: "fatal",
        message: `output is ${bytes} bytes of JSON, over the limit of ${maxBytes}; write big results to the output directory as files`,
      },
    };
  }
  return { json };
}
