import fs from "node:fs";
import os from "node:os";
import type { AgentHealth, AgentMetrics, GpuInfo } from "@gantry/protocol";
import { diskOf } from "./collect-system-info.ts";
import { sampleNvidiaUsage } from "./detect-gpus.ts";

/** Free disk below this is a health warning (the GPU-agent seed's rule). */
export const LOW_DISK_MB = 10 * 1024;

/** `/proc/net/dev` → total received/sent bytes over all interfaces except loopback. */
export function parseProcNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1]!.trim() === "lo") continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** The health self-check: GPUs still visible, disk space. Pure so it can be tested. */
export function checkHealth(input: {
  gpusAtStart: number;
  gpusNow: number | null;
  diskFreeMb: number | null;
}): AgentHealth {
  const issues: string[] = [];
  const warnings: string[] = [];
  if (input.gpusNow !== null && input.gpusNow < input.gpusAtStart) {
    issues.push(`GPU not detected: ${input.gpusNow} of ${input.gpusAtStart} GPUs visible`);
  }
  if (input.diskFreeMb !== null && input.diskFreeMb < LOW_DISK_MB) {
    warnings.push(`Low disk space: ${input.diskFreeMb} MB free`);
  }
  return { healthy: issues.length === 0, issues, warnings };
}

export interface MetricsSamplerOptions {
  dataDir: string;
  /** GPUs found at start (their vendor decides whether usage can be sampled). */
  gpus: GpuInfo[];
  intervalMs: number;
}

/**
 * Samples CPU, memory, disk, network and NVIDIA GPU usage in the background so a heartbeat never
 * waits on a tool. `latest()` is what the next heartbeat carries.
 */
export class MetricsSampler {
  readonly #o: MetricsSamplerOptions;
  readonly #started = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #lastCpu = cpuTimes();
  #latest: { metrics?: AgentMetrics; health?: AgentHealth } = {};
  /** Most NVIDIA GPUs nvidia-smi has shown; null until it first answers (no tool, no GPU check). */
  #nvidiaSeen: number | null = null;

  constructor(options: MetricsSamplerOptions) {
    this.#o = options;
  }

  start(): void {
    void this.#sample();
    this.#timer = setInterval(() => void this.#sample(), this.#o.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  latest(): { metrics?: AgentMetrics; health?: AgentHealth } {
    return this.#latest;
  }

  async #sample(): Promise<void> {
    const now = cpuTimes();
    const busy = now.busy - this.#lastCpu.busy;
    const total = now.total - this.#lastCpu.total;
    this.#lastCpu = now;
    const disk = diskOf(this.#o.dataDir);
    const metrics: AgentMetrics = {
      cpuPercent: total > 0 ? Math.round((busy / total) * 1000) / 10 : 0,
      memoryUsedMb: Math.round((os.totalmem() - os.freemem()) / 1048576),
      memoryTotalMb: Math.round(os.totalmem() / 1048576),
      uptimeSecs: Math.round((Date.now() - this.#started) / 1000),
    };
    if (disk) metrics.diskFreeMb = disk.freeMb;
    if (process.platform === "linux") {
      try {
        const net = parseProcNetDev(fs.readFileSync("/proc/net/dev", "utf8"));
        metrics.netRxBytes = net.rx;
        metrics.netTxBytes = net.tx;
      } catch {
        // no /proc (containers without it)
      }
    }
    // The baseline is what nvidia-smi itself reported, not every NVIDIA card found at start: one seen
    // only by lspci or llama.cpp (no nvidia-smi here) must not read as a lost GPU.
    let gpusNow: number | null = null;
    if (this.#o.gpus.some((g) => g.vendor === "nvidia")) {
      const usage = await sampleNvidiaUsage();
      if (usage) this.#nvidiaSeen = Math.max(this.#nvidiaSeen ?? 0, usage.length);
      gpusNow = this.#nvidiaSeen === null ? null : (usage?.length ?? 0);
      metrics.gpus = (usage ?? []).map((g, index) => ({
        index,
        utilizationPercent: g.utilizationPercent,
        memoryUsedMb: g.memoryUsedMb,
      }));
    }
    const health = checkHealth({ gpusAtStart: this.#nvidiaSeen ?? 0, gpusNow, diskFreeMb: disk?.freeMb ?? null });
    this.#latest = { metrics, health };
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
    total += t;
    busy += t - c.times.idle;
  }
  return { busy, total };
}
