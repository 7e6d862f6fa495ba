import fs from "node:fs";
import os from "node:os";
import type { DiskInfo, SystemInfo } from "@gantry/protocol";
import { detectGpus } from "./detect-gpus.ts";
import { archName, parseOsRelease, parseSwVers, parseWindowsCaption } from "./os-name.ts";
import { runTool } from "./run-tool.ts";

export const AGENT_VERSION = "0.1.0";

/** "Ubuntu 22.04.3 LTS", "macOS 14.0", "Windows 11 Pro"; falls back to Node's platform + release. */
export async function detectOsName(platform: NodeJS.Platform = process.platform): Promise<{
  name: string;
  version: string | null;
}> {
  let found: { name: string; version: string | null } | null = null;
  if (platform === "linux") {
    for (const f of ["/etc/os-release", "/usr/lib/os-release"]) {
      try {
        found = parseOsRelease(fs.readFileSync(f, "utf8"));
        if (found) break;
      } catch {
        // try the next
      }
    }
  } else if (platform === "darwin") {
    const out = await runTool("sw_vers", []);
    found = out ? parseSwVers(out) : null;
  } else if (platform === "win32") {
    const out = await runTool("powershell.exe", [
      "-NoProfile",
      "-Command",
      "(Get-CimInstance Win32_OperatingSystem).Caption",
    ]);
    found = out ? parseWindowsCaption(out) : null;
  }
  return found ?? { name: `${os.type()} ${os.release()}`, version: os.release() };
}

/** Size and free space of the filesystem holding `dir`. */
export function diskOf(dir: string): DiskInfo | null {
  try {
    const s = fs.statfsSync(dir);
    return {
      mount: dir,
      sizeMb: Math.round((s.blocks * s.bsize) / 1048576),
      freeMb: Math.round((s.bavail * s.bsize) / 1048576),
    };
  } catch {
    return null;
  }
}

/** What the agent reports at registration: OS, CPU, memory, disks and GPUs (`gpu: null` when none). */
export async function collectSystemInfo(dataDir: string): Promise<SystemInfo> {
  const [osName, gpus] = await Promise.all([detectOsName(), detectGpus()]);
  const cpus = os.cpus();
  const disks = [diskOf(dataDir)].filter((d): d is DiskInfo => d !== null);
  return {
    hostname: os.hostname(),
    os: osName.name,
    osVersion: osName.version ?? undefined,
    platform: process.platform,
    arch: archName(process.arch),
    cpu: { model: cpus[0]?.model.trim() ?? "unknown", cores: cpus.length },
    memoryMb: Math.round(os.totalmem() / 1048576),
    disks,
    gpu: gpus[0] ?? null,
    gpus,
    agentVersion: AGENT_VERSION,
  };
}
