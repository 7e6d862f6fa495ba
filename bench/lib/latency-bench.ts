import type { BenchOptions } from "./bench-options.ts";
import { type Children, nextMessage } from "./children.ts";
import { Fleet } from "./fleet.ts";
import { CpuMeter } from "./proc-stats.ts";
import type { SenderConfig, SenderReport } from "./sender-main.ts";
import { type LoopDelay, startServerChild } from "./server-child.ts";
import { type Distribution, distribution, round } from "./stats.ts";

export interface LatencyPoint extends Distribution {
  offeredRate: number;
  /** "single": one POST /v1/jobs per job; "batch-10ms": the jobs due every 10 ms in one batch request. */
  mode: "single" | "batch-10ms";
  /** Jobs per second the senders actually offered during the measured window. */
  achievedRate: number;
  senders: number;
  sentMeasured: number;
  submitErrors: number;
  serverCpuPct: number;
  /** Submit round trip (POST /v1/jobs → 201) seen by the senders, ms. */
  submitResponse: Distribution;
  /** The server's event-loop delay over the measured window (ms). */
  serverLoopDelay: LoopDelay;
}

const SENDER_MAIN = new URL("./sender-main.ts", import.meta.url).pathname;
const CAPABILITY = "bench.noop";

/** Open-loop submit→agent-receipt latency at one offered rate, on a fresh server. */
async function latencyAt(
  children: Children,
  o: BenchOptions,
  rate: number,
  mode: LatencyPoint["mode"],
): Promise<LatencyPoint> {
  const l = o.latency;
  const server = await startServerChild(children, { cpuProfDir: o.serverProfDir });
  try {
    const { fleet, ready } = await Fleet.start(
      children,
      {
        url: server.url,
        agentKey: server.bootstrap.agentKey,
        capability: CAPABILITY,
        capacity: l.capacity,
        mode: "latency",
        concurrency: 4,
        total: l.agents,
        processes: l.agents,
      },
      60_000,
    );
    if (ready.connected !== l.agents) throw new Error(`agents failed to connect: ${ready.firstError}`);
    const nSenders = rate >= 2000 && mode === "single" ? l.senders : 1;
    const senders = Array.from({ length: nSenders }, (_, i) =>
      children.fork(`sender#${i}`, SENDER_MAIN, {
        url: server.url,
        clientKey: server.bootstrap.clientKey,
        capability: CAPABILITY,
        rate: rate / nSenders,
        warmupMs: l.warmupMs,
        measureMs: l.measureMs,
        maxSockets: 64,
        batchTickMs: mode === "single" ? 0 : 10,
      } satisfies SenderConfig),
    );
    // Let the senders load their modules before the clock starts.
    await new Promise((r) => setTimeout(r, 500));
    const reports = senders.map((s) => nextMessage<SenderReport>(s, (m) => m?.type === "done", 120_000));
    for (const s of senders) s.send({ type: "go" });
    const cpu = new CpuMeter(server.pid);
    const cpuStarted = new Promise((r) => setTimeout(r, l.warmupMs)).then(() => {
      cpu.start();
      server.resetLoopDelay();
    });
    const done = await Promise.all(reports);
    await cpuStarted;
    const serverCpuPct = cpu.stop();
    const serverLoopDelay = await server.loopDelay();
    const sent = done.reduce((s, r) => s + r.sent, 0);
    const accepted = done.reduce((s, r) => s + r.accepted, 0);
    await fleet.waitCompleted(accepted, 60_000);
    const samples = await fleet.collectSamples();
    await Promise.all(senders.map((s) => children.stop(s)));
    await fleet.stop();
    const errors = done.reduce((s, r) => s + r.errors, 0);
    if (errors > 0)
      process.stderr.write(`  latency ${rate}/s: ${errors} of ${sent} submits failed (${done[0]?.firstError})\n`);
    return {
      offeredRate: rate,
      mode,
      achievedRate: round(done.reduce((s, r) => s + r.offeredRate, 0)),
      senders: nSenders,
      sentMeasured: done.reduce((s, r) => s + r.sentMeasured, 0),
      submitErrors: errors,
      serverCpuPct: round(serverCpuPct),
      serverLoopDelay,
      submitResponse: distribution(done.flatMap((r) => r.responseMs)),
      ...distribution(samples),
    };
  } finally {
    await server.stop();
  }
}

export async function runLatency(
  children: Children,
  o: BenchOptions,
  log: (line: string) => void,
): Promise<LatencyPoint[]> {
  const out: LatencyPoint[] = [];
  for (const mode of ["single", "batch-10ms"] as const)
    for (const rate of o.latency.rates) {
      const p = await latencyAt(children, o, rate, mode);
      log(
        `latency ${mode} at ${rate}/s (achieved ${p.achievedRate}/s): p50 ${p.p50} ms, p99 ${p.p99} ms, max ${p.max} ms; ` +
          `submit 201 p99 ${p.submitResponse.p99} ms; server event-loop delay p99 ${p.serverLoopDelay.p99} ms, max ${p.serverLoopDelay.max} ms`,
      );
      out.push(p);
    }
  return out;
}
