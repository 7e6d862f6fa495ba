import { exitWithParent } from "./children.ts";
import type { FleetConfig, FleetToParent, ParentToFleet } from "./fleet-messages.ts";
import { HttpJson, mapLimit } from "./http-json.ts";
import { ProtoAgent } from "./proto-agent.ts";

/**
 * One process of bench agents (protocol-level WebSocket clients). Registers and connects
 * `count` agents with bounded concurrency, reports `ready`, then streams completion totals
 * (work/latency) and latency samples on request.
 */
const cfg = JSON.parse(process.argv[2]!) as FleetConfig;
const send = (m: FleetToParent) => process.send?.(m);
const http = new HttpJson(cfg.url, { maxSockets: cfg.concurrency });
const agents: ProtoAgent[] = [];
let completed = 0;
let lastAt = 0;
let reported = 0;
let samples: number[] = [];

exitWithParent(() => {
  for (const a of agents) a.close();
  http.close();
});

const onCompleted = (n: number, at: number) => {
  completed += n;
  lastAt = at;
};
const onSample = (ms: number) => {
  samples.push(ms);
};

const t0 = performance.now();
let failed = 0;
let firstError: string | null = null;
await mapLimit(
  Array.from({ length: cfg.count }, (_, i) => i),
  cfg.concurrency,
  async () => {
    const agent = new ProtoAgent({ ...cfg, http, onCompleted, onSample });
    try {
      await agent.enrol();
      await agent.connect();
      agents.push(agent);
    } catch (err) {
      failed++;
      firstError ??= (err as Error).message;
      agent.close();
    }
  },
);
send({
  type: "ready",
  connected: agents.length,
  failed,
  firstError,
  seconds: (performance.now() - t0) / 1000,
});

// Progress goes up in small batches: one IPC message per 10 ms at most, carrying the exact time
// of the last acknowledgement, so the parent's clock does not depend on this interval.
if (cfg.mode !== "idle") {
  setInterval(() => {
    if (completed === reported) return;
    reported = completed;
    send({ type: "progress", completed, lastAt });
  }, 10);
}

process.on("message", (m: ParentToFleet) => {
  if (m.type === "collect") {
    send({ type: "samples", samples });
    samples = [];
  } else if (m.type === "stats") {
    const nacks = agents.reduce((s, a) => s + a.nacks, 0);
    const firstNack = agents.find((a) => a.firstNack)?.firstNack ?? null;
    send({ type: "stats", nacks, firstNack, closed: agents.filter((a) => a.closed).length });
  }
});
