import { parseArgs } from "node:util";
import { GantryClient } from "@gantry/client";
import { Children } from "./lib/children.ts";
import { HttpJson, mapLimit } from "./lib/http-json.ts";
import { cpuSeconds } from "./lib/proc-stats.ts";
import { startServerChild } from "./lib/server-child.ts";
import { median, round } from "./lib/stats.ts";

/**
 * Single submits against one server process: `POST /v1/jobs` per job (`--mode post`), or the SDK's
 * pipelined submit over the client WebSocket (`--mode ws`). Reports submits/s and the server's CPU
 * per submit, median of `--runs`; `--prof DIR` writes the server's V8 CPU profile there (read it
 * with bench/profile-summary.ts).
 *
 *   node bench/single-submit.ts --mode post --jobs 20000 --in-flight 64 [--prof /tmp/prof]
 */
const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "post" },
    jobs: { type: "string", default: "20000" },
    "in-flight": { type: "string", default: "64" },
    runs: { type: "string", default: "3" },
    prof: { type: "string" },
  },
});
const n = Number(values.jobs);
const inFlight = Number(values["in-flight"]);
const children = new Children();
const server = await startServerChild(children, { cpuProfDir: values.prof });
const payload = { t: Date.now(), pad: "x".repeat(68) };
const http = new HttpJson(server.url, { bearer: server.bootstrap.clientKey, maxSockets: inFlight });
const sdk = new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey });

async function once(count: number): Promise<{ perSec: number; serverCpuMsPerJob: number }> {
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async () => {
      if (values.mode === "ws") {
        await sdk.submit({ capability: "bench.single", payload });
      } else {
        const r = await http.post("/v1/jobs", { capability: "bench.single", payload }, false);
        if (r.status !== 201) throw new Error(`HTTP ${r.status}`);
      }
    },
  );
  const secs = (performance.now() - t0) / 1000;
  return { perSec: round(count / secs), serverCpuMsPerJob: round(((cpuSeconds(server.pid) - cpu0) * 1000) / count, 3) };
}

try {
  await once(Math.min(2000, n)); // warm-up
  const runs = [];
  for (let r = 0; r < Number(values.runs); r++) runs.push(await once(n));
  const result = {
    mode: values.mode,
    jobs: n,
    inFlight,
    runs,
    medianPerSec: median(runs.map((r) => r.perSec)),
    medianServerCpuMsPerJob: median(runs.map((r) => r.serverCpuMsPerJob)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  sdk.close();
  http.close();
  await server.stop();
  await children.stopAll();
}
