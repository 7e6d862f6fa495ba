import { join } from "node:path";
import type { ExecutorSettings } from "../../runner/executor.ts";

/** Where the ONNX exports for clip/dino live: `<agent data dir>/models` (see docs/plugins.md). */
export function modelsDirOf(settings: Pick<ExecutorSettings, "dataDir">): string {
  return join(settings.dataDir, "models");
}
