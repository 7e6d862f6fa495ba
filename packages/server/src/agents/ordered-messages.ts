import { AgentToServer, type ServerToAgent } from "@gantry/protocol";
import { nack, protocolError } from "./agent-replies.ts";

/**
 * Most messages one turn handles before yielding (setImmediate). A frame of 10,000 progress
 * messages handled in one go held the event loop for ~0.9 s on the 2-core VM; in slices of this size
 * other links, timers and HTTP requests get a turn between slices.
 */
export const SLICE = 256;

/** Job messages touch one job each, so a run of them may be handled together (one group commit). */
const isJobMessage = (m: AgentToServer) => m.type.startsWith("job:");

/**
 * Handles one link's messages in the order they came. A run of job messages is started in order and
 * awaited together (their writes land in order in one group commit); anything else (heartbeat,
 * token, command result, deregister) is a barrier handled alone, so a heartbeat never sees a state
 * that an earlier message was about to change. Each message is validated on its own: a bad one is
 * refused (nack, or an error frame without a ref) and the rest still apply. Replies go out per run.
 */
export async function handleInOrder(
  raw: readonly unknown[],
  handle: (m: AgentToServer) => Promise<ServerToAgent[]>,
  send: (replies: ServerToAgent[]) => void,
): Promise<void> {
  let since = 0;
  let i = 0;
  while (i < raw.length) {
    const run: Promise<ServerToAgent[]>[] = [];
    while (i < raw.length && run.length < SLICE) {
      const parsed = AgentToServer.safeParse(raw[i]);
      if (!parsed.success) {
        run.push(Promise.resolve([refusal(raw[i], parsed.error.issues[0]?.message ?? "invalid message")]));
        i += 1;
        continue;
      }
      const barrier = !isJobMessage(parsed.data);
      if (barrier && run.length > 0) break;
      run.push(handle(parsed.data));
      i += 1;
      if (barrier) break;
    }
    send((await Promise.all(run)).flat());
    since += run.length;
    if (since >= SLICE && i < raw.length) {
      since = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function refusal(m: unknown, why: string): ServerToAgent {
  const ref = (m as { ref?: unknown } | null)?.ref;
  const message = `message does not match the agent protocol: ${why}`;
  return typeof ref === "number" && Number.isInteger(ref) && ref >= 0
    ? nack(ref, "agent_protocol_error", message)
    : protocolError(message);
}
