import { readFileSync } from "node:fs";

const CLK_TCK = 100; // USER_HZ on Linux; /proc/<pid>/stat times are in these ticks.

/** Resident set size of a process in MB (VmRSS from /proc), or NaN if it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system, threads included) a process has used so far. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Measures a process's CPU use between start() and stop(), as a percentage of one core. */
export class CpuMeter {
  readonly #pid: number;
  #cpu0 = 0;
  #t0 = 0;

  constructor(pid: number) {
    this.#pid = pid;
  }

  start(): this {
    this.#cpu0 = cpuSeconds(this.#pid);
    this.#t0 = performance.now();
    return this;
  }

  /** Percent of one core since start() (200% = both cores of this machine). */
  stop(): number {
    const secs = (performance.now() - this.#t0) / 1000;
    return secs > 0 ? ((cpuSeconds(this.#pid) - this.#cpu0) / secs) * 100 : Number.NaN;
  }
}

/** The summed CPU use of several processes between start() and stop(), % of one core. */
export class MultiCpuMeter {
  readonly #meters: CpuMeter[];

  constructor(pids: number[]) {
    this.#meters = pids.map((pid) => new CpuMeter(pid));
  }

  start(): this {
    for (const m of this.#meters) m.start();
    return this;
  }

  stop(): number {
    return this.#meters.reduce((s, m) => s + m.stop(), 0);
  }
}
