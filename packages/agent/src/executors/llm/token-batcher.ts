/**
 * Joins the text of one event-loop turn into one call: a fast model decodes several tokens per turn
 * under load, and one progress message per token would cost a frame each on every hop.
 */
export function batchPerTurn(flush: (text: string) => void): { push(text: string): void; flush(): void } {
  let pending = "";
  let scheduled = false;
  const send = () => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = "";
    flush(text);
  };
  return {
    push(text) {
      pending += text;
      if (scheduled) return;
      scheduled = true;
      setImmediate(send);
    },
    flush: send,
  };
}
