import type { JobProgress } from "@gantry/protocol";
import { batchPerTurn } from "./token-batcher.ts";

/**
 * Streamed text as job progress. Progress is latest-wins on the wire, so each message carries the
 * text so far (its last 2000 characters, the message limit) and tokens / max_tokens as percent; one
 * message per event-loop turn, never one per token.
 */
export function tokenProgress(
  progress: (p: JobProgress) => void,
  maxTokens: number,
): { onToken(text: string): void; flush(): void } {
  let text = "";
  let tokens = 0;
  const turn = batchPerTurn((t) => {
    text += t;
    const percent = Math.min(99, Math.floor((tokens * 100) / maxTokens));
    progress({ percent, stage: "generating", message: text.slice(-2000) });
  });
  return {
    onToken(t) {
      tokens++;
      turn.push(t);
    },
    flush: turn.flush,
  };
}
