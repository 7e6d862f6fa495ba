import os from "node:os";

export interface MachineInfo {
  cpus: number;
  model: string;
  memoryMb: number;
  node: string;
  platform: string;
  kernel: string;
  /** 1/5/15-minute load averages when the bench started: other work on the machine skews every figure. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism(),
    model: cpus[0]?.model.trim() ?? "unknown",
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
