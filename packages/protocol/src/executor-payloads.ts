import { z } from "zod";

/** Environment variable names a job may set (POSIX portable names). */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be a portable environment variable name");
const JobEnv = z.record(EnvName, z.string().max(32_768)).refine((e) => Object.keys(e).length <= 256, {
  message: "at most 256 environment variables",
});

/**
 * `shell.bash` job payload: `command` runs through `bash -c`; `argv` runs a program directly.
 * `cwd` is relative to the job's working directory (absolute paths are taken as they are).
 * `saveLog` keeps the whole output as the output file `output.log`, however long it is.
 */
export const ShellBashPayload = z
  .strictObject({
    command: z.string().min(1).max(65_536).optional(),
    argv: z.array(z.string().max(65_536)).min(1).max(4096).optional(),
    cwd: z.string().min(1).max(4096).optional(),
    env: JobEnv.optional(),
    saveLog: z.boolean().optional(),
  })
  .refine((p) => (p.command === undefined) !== (p.argv === undefined), {
    message: "give exactly one of command or argv",
  });
export type ShellBashPayload = z.infer<typeof ShellBashPayload>;

/** How a command ended: the output of `shell.bash` (a non-zero exit fails the job with this in its message). */
export const CommandResult = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().nonnegative(),
  /** Bytes of output not streamed as log lines because the job's log budget was spent. */
  droppedLogBytes: z.number().int().nonnegative().optional(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/**
 * `benchmark` job payload: `name` picks a benchmark from the agent's config (with extra `args`);
 * `command`/`argv` run an arbitrary command, only on agents started with `--allow-shell`.
 */
export const BenchmarkPayload = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    args: z.array(z.string().max(4096)).max(256).optional(),
    command: z.string().min(1).max(65_536).optional(),
    argv: z.array(z.string().max(65_536)).min(1).max(4096).optional(),
    env: JobEnv.optional(),
    saveLog: z.boolean().optional(),
  })
  .refine((p) => [p.name, p.command, p.argv].filter((x) => x !== undefined).length === 1, {
    message: "give exactly one of name, command or argv",
  });
export type BenchmarkPayload = z.infer<typeof BenchmarkPayload>;

/** The output of a `benchmark` job: how the command ended and the metrics it reported. */
export const BenchmarkResult = CommandResult.extend({
  name: z.string().nullable(),
  /** The JSON the command wrote to `$GANTRY_METRICS_FILE`, else the last stdout line that is JSON; null if neither. */
  metrics: z.unknown(),
});
export type BenchmarkResult = z.infer<typeof BenchmarkResult>;
