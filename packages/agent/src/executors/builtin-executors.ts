import { MEDIA_PLUGIN_LOADERS } from "./media-plugins.ts";

const at = (path: string) => new URL(path, import.meta.url).href;

/**
 * The executors that ship with the agent, by module URL (their identity in detection and in the
 * messages to executor threads and children), each with its import. Written as import() of a literal
 * path so the agent's bundle holds them; a module is evaluated only when a thread imports it.
 */
export const BUILTIN_LOADERS: ReadonlyMap<string, () => Promise<unknown>> = new Map<string, () => Promise<unknown>>([
  [at("./debug/echo.ts"), () => import("./debug/echo.ts")],
  [at("./debug/sleep.ts"), () => import("./debug/sleep.ts")],
  [at("./debug/fail.ts"), () => import("./debug/fail.ts")],
  [at("./shell-bash/shell-bash.ts"), () => import("./shell-bash/shell-bash.ts")],
  [at("./benchmark/benchmark.ts"), () => import("./benchmark/benchmark.ts")],
  [at("./llm/llm-executor.ts"), () => import("./llm/llm-executor.ts")],
  ...MEDIA_PLUGIN_LOADERS,
]);

/** Module URLs of the executors that ship with the agent. Each is imported in a worker thread. */
export const BUILTIN_EXECUTORS: readonly string[] = [...BUILTIN_LOADERS.keys()];
