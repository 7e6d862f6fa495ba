import { MEDIA_PLUGINS } from "./media-plugins.ts";

/** Module URLs of the executors that ship with the agent. Each is imported in a worker thread. */
export const BUILTIN_EXECUTORS: readonly string[] = [
  new URL("./debug/echo.ts", import.meta.url).href,
  new URL("./debug/sleep.ts", import.meta.url).href,
  new URL("./debug/fail.ts", import.meta.url).href,
  new URL("./shell-bash/shell-bash.ts", import.meta.url).href,
  new URL("./benchmark/benchmark.ts", import.meta.url).href,
  new URL("./llm/llm-executor.ts", import.meta.url).href,
  ...Object.values(MEDIA_PLUGINS),
];
