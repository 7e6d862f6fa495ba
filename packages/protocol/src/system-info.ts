import { z } from "zod";

/** One GPU as an agent sees it. Unknown numbers are null, never guessed. */
export const GpuInfo = z.object({
  vendor: z.enum(["nvidia", "amd", "intel", "apple", "other"]),
  model: z.string(),
  vramMb: z.number().nullable(),
  driver: z.string().nullable(),
  computeCapability: z.string().nullable(),
  utilizationPercent: z.number().nullable(),
  memoryUsedMb: z.number().nullable(),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

export const DiskInfo = z.object({ mount: z.string(), sizeMb: z.number(), freeMb: z.number() });
export type DiskInfo = z.infer<typeof DiskInfo>;

/**
 * What an agent reports about its machine at registration. Loose on purpose: third-party agents
 * (the seed's Python client) send their own fields, which are kept.
 */
export const SystemInfo = z.looseObject({
  hostname: z.string().optional(),
  os: z.string().optional(),
  platform: z.string().optional(),
  osVersion: z.string().optional(),
  arch: z.string().optional(),
  cpu: z.looseObject({ model: z.string().optional(), cores: z.number().optional() }).optional(),
  memoryMb: z.number().optional(),
  disks: z.array(DiskInfo).optional(),
  gpu: GpuInfo.nullable().optional(),
  gpus: z.array(GpuInfo).optional(),
  agentVersion: z.string().optional(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;
