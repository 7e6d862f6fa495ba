import type { LlmCompletionOutput } from "@gantry/protocol";

/**
 * How an llm run failed, after seed 002:
 * - `model`: the model could not be loaded (corrupt file, out of memory). Another agent may manage:
 *   the job goes back to the queue and this agent stops advertising the model until `quarantinedUntil`.
 * - `inference`: generation failed part-way. `partial` keeps what was generated; the context has been
 *   recreated for the next run.
 * - `fatal`: the GPU is gone. The agent must drain and exit non-zero.
 * - `cancelled`: the signal was aborted. `partial` holds the text generated until then.
 * - `bad_request`: the payload or model name is wrong; retrying will not help.
 */
export type LlmErrorCategory = "model" | "inference" | "fatal" | "cancelled" | "bad_request";

export class LlmError extends Error {
  readonly category: LlmErrorCategory;
  readonly partial: LlmCompletionOutput | undefined;
  /** For `model`: until when this agent no longer offers the model (epoch ms). */
  readonly quarantinedUntil: number | undefined;

  constructor(
    category: LlmErrorCategory,
    message: string,
    extra: { partial?: LlmCompletionOutput; quarantinedUntil?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: extra.cause });
    this.name = "LlmError";
    this.category = category;
    this.partial = extra.partial;
    this.quarantinedUntil = extra.quarantinedUntil;
  }
}

// What llama.cpp and its GPU backends print when a device disappears (driver reset, eGPU unplugged,
// Xid 79 "fallen off the bus"); an out-of-memory is not one of them.
const DEVICE_LOST =
  /device[ _]?lost|fallen off the bus|no CUDA-capable device|CUDA error: (unspecified launch failure|an illegal memory access)|cudaErrorDevicesUnavailable|MTLCommandBufferErrorDeviceRemoved|GPU is gone/i;

/** Whether an error from the binding means the GPU itself is gone (fatal), not just this run. */
export function isDeviceLost(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
  return DEVICE_LOST.test(text);
}
