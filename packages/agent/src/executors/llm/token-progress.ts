import type { ExecutorContext } from "../../runner/executor.ts";
import { batchPerTurn } from "./token-batcher.ts";

/**
 * Progress is stored on the server (a write per message), and the token messages already carry the
 * text: so progress goes at most this often, and once more at the end.
 */
const PROGRESS_EVERY_MS = 100;

/**
 * Streamed text, once per event-loop turn (never once per token): the turn's text as a `tokens`
 * message (lossless and ordered, docs/llm.md), and a progress report with tokens / max_tokens as
 * percent. Progress is latest-wins, so it carries the text so far (its last 2000 characters, the
 * message limit) for watchers that only read progress.
 */
export function tokenProgress(
  ctx: Pick<ExecutorContext, "progress" | "tokens">,
  maxTokens: number,
): { onToken(text: string): void; flush(): void } {
  let text = "";
  let tokens = 0;
  let sentAt = 0;
  let stale = false;
  const progress = () => {
    stale = false;
    sentAt = performance.now();
    const percent = Math.min(99, Math.floor((tokens * 100) / maxTokens));
    ctx.progress({ percent, stage: "generating", message: text.slice(-2000) });
  };
  const turn = batchPerTurn((t) => {
    text += t;
    ctx.tokens?.(t);
    stale = true;
    if (performance.now() - sentAt >= PROGRESS_EVERY_MS) progress();
  });
  return {
    onToken(t) {
      tokens++;
      turn.push(t);
    },
    flush() {
      turn.flush();
      if (stale) progress();
    },
  };
}
