import { exitWithParent } from "../lib/children.ts";
import type { FleetToParent, ParentToFleet } from "../lib/fleet-messages.ts";
import { wallNow } from "../lib/stats.ts";
import { loadWorker } from "./peer-driver.ts";
import type { PeerWorkerConfig } from "./peer-messages.ts";

/**
 * One worker process of a peer system (BullMQ Worker or graphile-worker runner) with `concurrency`
 * no-op handlers. It speaks the same IPC as lib/fleet-main.ts (ready, progress, samples), so the
 * parent treats Gantry's protocol agents and these workers alike.
 */
const cfg = JSON.parse(process.argv[2]!) as PeerWorkerConfig;
const send = (m: FleetToParent) => process.send?.(m);
let completed = 0;
let lastAt = 0;
let reported = 0;
let samples: number[] = [];

const t0 = performance.now();
const worker = await loadWorker(cfg.target, cfg.concurrency, {
  onStart(p) {
    // Handler start minus the producer's send time, both wall clocks of this machine.
    if (p && typeof p.t === "number" && !p.w) samples.push(wallNow() - p.t);
  },
  onDone() {
    completed++;
    lastAt = wallNow();
  },
});
exitWithParent(() => worker.close());
send({ type: "ready", connected: 1, failed: 0, firstError: null, seconds: (performance.now() - t0) / 1000 });

// As in fleet-main.ts: at most one progress message per 10 ms, carrying the exact time of the last completion.
setInterval(() => {
  if (completed === reported) return;
  reported = completed;
  send({ type: "progress", completed, lastAt });
}, 10);

process.on("message", (m: ParentToFleet) => {
  if (m.type === "collect") {
    send({ type: "samples", samples });
    samples = [];
  } else if (m.type === "stats") send({ type: "stats", nacks: 0, firstNack: null, closed: 0 });
});
