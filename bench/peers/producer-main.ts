import { exitWithParent } from "../lib/children.ts";
import { mapLimit } from "../lib/http-json.ts";
import { wallNow } from "../lib/stats.ts";
import { loadProducer } from "./peer-driver.ts";
import type { FromProducer, PeerPayload, PeerTarget, ToProducer } from "./peer-messages.ts";

/**
 * The producer process of the peers section, the same code for every system: only the driver
 * (HTTP for Gantry, Queue for BullMQ, WorkerUtils for graphile-worker) differs. Argument: JSON
 * PeerTarget. Answers IPC commands one at a time (FromProducer).
 */
const target = JSON.parse(process.argv[2]!) as PeerTarget;
const driver = await loadProducer(target);
const send = (m: FromProducer) => process.send?.(m);
exitWithParent(() => driver.close());

// `{"t":1763700000000.123,"pad":"…"}` comes to ~100 bytes of JSON, the reference workload's payload.
const PAD = "x".repeat(68);
const payload = (warm: boolean): PeerPayload =>
  warm ? { t: wallNow(), w: true, pad: PAD } : { t: wallNow(), pad: PAD };

/** Closed loop: N adds, `inFlight` requests at once, one job or `batchSize` jobs per request. */
async function throughput(m: Extract<ToProducer, { type: "throughput" }>): Promise<FromProducer> {
  const sizes: number[] = [];
  const per = m.mode === "bulk" ? m.batchSize : 1;
  for (let left = m.n; left > 0; left -= per) sizes.push(Math.min(left, per));
  let errors = 0;
  let firstError: string | null = null;
  const startedAt = wallNow();
  const t0 = performance.now();
  await mapLimit(sizes, m.inFlight, async (size) => {
    try {
      // Throughput jobs are marked w: their latency is not sampled.
      if (m.mode === "single") await driver.addOne(payload(true));
      else if (m.mode === "pipelined") await driver.addPipelined!(payload(true));
      else await driver.addMany(Array.from({ length: size }, () => payload(true)));
    } catch (err) {
      errors += size;
      firstError ??= (err as Error).message;
    }
  });
  return { type: "submitted", startedAt, submitMs: performance.now() - t0, errors, firstError };
}

/**
 * Open loop: a 1 ms timer adds the jobs that are due by the schedule, answered or not (as in
 * lib/sender-main.ts); each job carries its send time. Resolves once every add has been answered.
 */
function openLoop(m: Extract<ToProducer, { type: "open-loop" }>): Promise<FromProducer> {
  let sent = 0;
  let sentMeasured = 0;
  let accepted = 0;
  let acceptedInWindow = 0;
  let errors = 0;
  let firstError: string | null = null;
  let inFlight = 0;
  const total = m.warmupMs + m.measureMs;
  const t0 = performance.now();
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    const finishIfDone = () => {
      if (inFlight > 0 || timer !== null) return;
      const windowSecs = m.measureMs / 1000;
      resolve({
        type: "open-loop:done",
        sent,
        sentMeasured,
        accepted,
        acceptedInWindow,
        windowSecs,
        errors,
        firstError,
      });
    };
    const sendOne = (warm: boolean) => {
      sent++;
      if (!warm) sentMeasured++;
      inFlight++;
      (m.pipelined ? driver.addPipelined!(payload(warm)) : driver.addOne(payload(warm))).then(
        () => {
          accepted++;
          const at = performance.now() - t0;
          if (at >= m.warmupMs && at <= total) acceptedInWindow++;
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
    timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - t0, total);
      const due = Math.floor((elapsed * m.rate) / 1000);
      const warm = elapsed < m.warmupMs;
      while (sent < due) sendOne(warm);
      if (elapsed >= total) {
        clearInterval(timer!);
        timer = null;
        finishIfDone();
      }
    }, 1);
  });
}

process.on("message", async (m: ToProducer) => {
  send(m.type === "throughput" ? await throughput(m) : await openLoop(m));
});
send({ type: "ready" });
