import type { z } from "zod";
import type { ExecutorContext } from "../../runner/executor.ts";
import { ExecutorError } from "../../runner/executor.ts";
import type { PluginIO } from "./plugin-io.ts";

/** The one input file every media plugin takes. */
export function singleInput(ctx: Pick<ExecutorContext, "inputPaths">): string {
  const [first, ...rest] = Object.values(ctx.inputPaths);
  if (first === undefined || rest.length > 0) {
    throw new ExecutorError(
      "fatal",
      `this capability takes exactly one input file, got ${rest.length + (first ? 1 : 0)}`,
    );
  }
  return first;
}

/** Validates a payload against its protocol schema; a bad one is the submitter's error, so fatal. */
export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const parsed = schema.safeParse(payload ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "payload";
  throw new ExecutorError("fatal", `invalid payload: ${where}: ${issue?.message ?? "invalid"}`, "bad_payload");
}

/** The core functions' progress callback on the executor context. */
export function toIO(ctx: Pick<ExecutorContext, "outputDir" | "signal" | "progress">): PluginIO {
  return {
    outputDir: ctx.outputDir,
    signal: ctx.signal,
    progress: (percent, stage) => ctx.progress({ percent: Math.round(percent), stage }),
  };
}
