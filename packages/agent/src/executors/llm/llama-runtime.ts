import type { Llama } from "node-llama-cpp";
import { LlmError } from "./llm-error.ts";

export type LlamaModule = typeof import("node-llama-cpp");

/** The backend name used in capability attributes: cuda, metal, vulkan or cpu. */
export type GpuBackend = "cuda" | "metal" | "vulkan" | "cpu";

export interface LlamaRuntime {
  lib: LlamaModule;
  llama: Llama;
  backend: GpuBackend;
  /** Threads each context uses (see pickThreads). */
  threads: number;
}

/**
 * Imported lazily: an agent without node-llama-cpp (or without a prebuilt binary for this machine)
 * still starts, it just offers no llm capability. Null with the reason when unavailable.
 */
export async function importLlama(): Promise<LlamaModule | string> {
  try {
    return await import("node-llama-cpp");
  } catch (err) {
    return `node-llama-cpp is not installed: ${(err as Error).message}`;
  }
}

/**
 * Threads per context: physical cores − 1 (min 1) leaves one core to the agent's control loop and
 * the OS. On a 2-core machine 1 thread generated 12× faster than 2 (llama.cpp's threads spin while
 * waiting, and two spinning threads starve everything else).
 */
export function pickThreads(requested: number, mathCores: number): number {
  if (requested > 0) return Math.floor(requested);
  return Math.max(1, mathCores - 1);
}

/**
 * Starts llama.cpp with the prebuilt binary only: `build: "never"` never compiles or downloads at
 * run time. A missing binary is a `model` error for every model (another agent may have one).
 */
export async function startLlama(lib: LlamaModule, gpu: "auto" | "off", threads: number): Promise<LlamaRuntime> {
  try {
    const llama = await lib.getLlama({
      gpu: gpu === "off" ? false : "auto",
      build: "never",
      logLevel: lib.LlamaLogLevel.error,
      progressLogs: false,
    });
    const backend: GpuBackend = llama.gpu === false ? "cpu" : llama.gpu;
    return { lib, llama, backend, threads: pickThreads(threads, llama.cpuMathCores) };
  } catch (err) {
    throw new LlmError("model", `llama.cpp could not start: ${(err as Error).message}`, { cause: err });
  }
}
