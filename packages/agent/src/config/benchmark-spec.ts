import { z } from "zod";

/**
 * One benchmark in the agent's config file (`benchmarks: {name: spec}`): the command a `benchmark`
 * job with that name runs. Configured commands run without `--allow-shell`: the operator wrote them.
 */
export const BenchmarkSpec = z
  .strictObject({
    /** Run through `bash -c`. */
    command: z.string().min(1).optional(),
    /** Run directly (no shell); a job's `args` are appended. */
    argv: z.array(z.string()).min(1).optional(),
    /** Working directory (absolute, or relative to the job's working directory). */
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
  })
  .refine((b) => (b.command === undefined) !== (b.argv === undefined), {
    message: "give exactly one of command or argv",
  });
export type BenchmarkSpec = z.infer<typeof BenchmarkSpec>;
