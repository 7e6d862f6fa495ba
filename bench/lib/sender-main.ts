import { exitWithParent } from "./children.ts";
import { HttpJson } from "./http-json.ts";
import { wallNow } from "./stats.ts";

/** Argument of sender-main.ts: one open-loop submitter. */
export interface SenderConfig {
  url: string;
  clientKey: string;
  capability: string;
  /** Jobs per second this process offers. */
  rate: number;
  warmupMs: number;
  measureMs: number;
  maxSockets: number;
  /**
   * 0: one `POST /v1/jobs` per job. N > 0: every N ms, the jobs due go as one `POST /v1/jobs/batch`
   * (the "open loop in 10 ms ticks" method of the reference measurements).
   */
  batchTickMs: number;
}

export interface SenderReport {
  type: "done";
  sent: number;
  sentMeasured: number;
  /** Jobs offered per second during the measured window. */
  offeredRate: number;
  accepted: number;
  errors: number;
  firstError: string | null;
  /** Most requests waiting for a response at once. */
  maxInFlight: number;
  /** Submit round trips (send → 201) of the measured jobs, ms. */
  responseMs: number[];
}

/**
 * Open loop: a 1 ms timer sends as many `POST /v1/jobs` as the schedule says are due, whether or not
 * earlier ones have been answered. Each job carries its send time (`t`, wall ms) so the agent that
 * receives it can compute submit→agent latency; warm-up jobs are marked `w`.
 * Starts on IPC `{type:"go"}`, answers `SenderReport` when every response is in.
 */
const cfg = JSON.parse(process.argv[2]!) as SenderConfig;
const http = new HttpJson(cfg.url, { bearer: cfg.clientKey, maxSockets: cfg.maxSockets });
exitWithParent(() => http.close());

function run(): Promise<SenderReport> {
  let sent = 0;
  let sentMeasured = 0;
  let accepted = 0;
  let errors = 0;
  let firstError: string | null = null;
  let inFlight = 0;
  let maxInFlight = 0;
  let measureStart = 0;
  let measureEnd = 0;
  const responseMs: number[] = [];
  const total = cfg.warmupMs + cfg.measureMs;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (inFlight > 0 || timer !== null) return;
      const secs = (measureEnd - measureStart) / 1000;
      resolve({
        type: "done",
        sent,
        sentMeasured,
        offeredRate: secs > 0 ? sentMeasured / secs : 0,
        accepted,
        errors,
        firstError,
        maxInFlight,
        responseMs,
      });
    };
    const sendOne = (warm: boolean) => {
      sent++;
      if (!warm) sentMeasured++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const sentAt = wallNow();
      const payload = warm ? { t: sentAt, w: true } : { t: sentAt };
      http.post("/v1/jobs", { capability: cfg.capability, payload }, false).then(
        (r) => {
          if (!warm) responseMs.push(wallNow() - sentAt);
          if (r.status === 201) accepted++;
          else {
            errors++;
            firstError ??= `HTTP ${r.status}`;
          }
          inFlight--;
          finishIfDone();
        },
        (err: Error) => {
          errors++;
          firstError ??= err.message;
          inFlight--;
          finishIfDone();
        },
      );
    };
    const sendBatch = (n: number, warm: boolean) => {
      sent += n;
      if (!warm) sentMeasured += n;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const sentAt = wallNow();
      const payload = warm ? { t: sentAt, w: true } : { t: sentAt };
      const jobs = Array.from({ length: n }, () => ({ capability: cfg.capability, payload }));
      http.post("/v1/jobs/batch", { jobs }, false).then(
        (r) => {
          if (!warm) responseMs.push(wallNow() - sentAt);
          if (r.status === 201) accepted += n;
          else {
            errors += n;
            firstError ??= `HTTP ${r.status}`;
          }
          inFlight--;
          finishIfDone();
        },
        (err: Error) => {
          errors += n;
          firstError ??= err.message;
          inFlight--;
          finishIfDone();
        },
      );
    };
    let lastTick = 0;
    let timer: NodeJS.Timeout | null = setInterval(() => {
      const now = performance.now();
      const elapsed = Math.min(now - t0, total);
      const due = Math.floor((elapsed * cfg.rate) / 1000);
      const warm = elapsed < cfg.warmupMs;
      if (!warm && measureStart === 0) measureStart = now;
      if (cfg.batchTickMs === 0) while (sent < due) sendOne(warm);
      else if (due > sent && (now - lastTick >= cfg.batchTickMs || elapsed >= total)) {
        lastTick = now;
        while (sent < due) sendBatch(Math.min(1000, due - sent), warm);
      }
      if (elapsed >= total) {
        measureEnd = performance.now();
        clearInterval(timer!);
        timer = null;
        finishIfDone();
      }
    }, 1);
  });
}

process.on("message", async (m: { type: string }) => {
  if (m.type !== "go") return;
  process.send?.(await run());
});
