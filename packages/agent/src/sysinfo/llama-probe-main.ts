/**
 * Child process: asks node-llama-cpp (module URL in argv[2]) which GPUs it can use and prints one
 * `GANTRY_LLAMA <json>` line (a LlamaGpuReport). Run apart so the native binding and any GPU
 * context it opens never live in the agent's own process.
 */

/** Typed loosely on purpose: node-llama-cpp is optional and not a dependency of the agent. */
interface LooseLlama {
  gpu?: string | false;
  getGpuDeviceNames(): Promise<string[]>;
  getVramState(): Promise<{ total: number; used: number; free: number; unifiedSize?: number }>;
  dispose?(): Promise<void>;
}

async function main(url: string): Promise<void> {
  const mod = (await import(url)) as { getLlama(options: Record<string, unknown>): Promise<LooseLlama> };
  const llama = await mod.getLlama({ gpu: "auto", build: "never", logLevel: "disabled", progressLogs: false });
  const gpu = llama.gpu ?? false;
  const report = {
    gpu,
    deviceNames: gpu ? await llama.getGpuDeviceNames() : [],
    vramState: gpu ? await llama.getVramState() : null,
  };
  process.stdout.write(`GANTRY_LLAMA ${JSON.stringify(report)}\n`);
  await llama.dispose?.();
}

const url = process.argv[2];
if (url) {
  main(url).then(
    () => process.exit(0),
    () => process.exit(1),
  );
} else process.exit(2);
