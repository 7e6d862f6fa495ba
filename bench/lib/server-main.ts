import { monitorEventLoopDelay } from "node:perf_hooks";
import { startServer } from "@gantry/server";
import { exitWithParent } from "./children.ts";

/**
 * A Gantry server in its own process for the bench. Argument: JSON ServerOptions (dataDir required).
 * Prints `{url, bootstrap, pid}` as one JSON line once listening. On IPC `{type:"gc"}` it runs a full
 * GC (when started with --expose-gc) and answers `{type:"gc:done"}`, so RSS figures are comparable.
 * `{type:"eld:reset"}` / `{type:"eld"}` reset and read the event-loop delay histogram (ms): how long
 * the server's one thread was blocked, which bounds how fast it can answer anything.
 */
const opts = JSON.parse(process.argv[2] ?? "{}");
// No rate limit: one bench client sends far more than a production credential may (6000 a minute).
const server = await startServer({ port: 0, logLevel: "warn", rateLimit: null, ...opts });
let closing = false;
exitWithParent(async () => {
  if (closing) return;
  closing = true;
  await server.close();
});
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;
process.on("message", (m: any) => {
  if (m?.type === "eld:reset") return eld.reset();
  if (m?.type === "eld") {
    process.send?.({ type: "eld", p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) });
    return;
  }
  if (m?.type !== "gc") return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  process.send?.({ type: "gc:done", available: gc !== undefined });
});
process.stdout.write(`${JSON.stringify({ url: server.url, bootstrap: server.bootstrap, pid: process.pid })}\n`);
