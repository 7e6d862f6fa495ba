import type { AgentToServer } from "@gantry/protocol";

/**
 * The most serialised bytes the agent puts in one frame, per transport: half of what the server
 * accepts (16 MiB WebSocket frames, 1 MiB long-poll bodies), so envelopes, escaping slack and a
 * server configured a little tighter never turn a frame into a dropped connection. A message larger
 * than this on its own cannot be sent at all (see the dead-letter list).
 */
export const MAX_FRAME_BYTES = { ws: 8 * 1024 * 1024, poll: 512 * 1024 } as const;
/** The least a link is cut down to after the server refused frames as too large. */
export const MIN_FRAME_BYTES = 64 * 1024;
/** WebSocket close code for a frame over the receiver's limit (RFC 6455); the poll transport maps 413 to it. */
export const CLOSE_TOO_LARGE = 1009;

/** Messages per frame (the long-poll body's schema allows 1,000). */
export const MAX_FRAME_MESSAGES = 1000;

/** Messages for one frame, with the frame already serialised (measuring it cost that anyway). */
export interface Frame {
  messages: AgentToServer[];
  json: string;
}

export interface SplitFrames {
  frames: Frame[];
  /** Messages over `maxBytes` by themselves, with their size. */
  oversized: Array<{ msg: AgentToServer; bytes: number }>;
}

/** Cuts messages, in order, into frames of at most `maxBytes` serialised and MAX_FRAME_MESSAGES each. */
export function splitFrames(messages: AgentToServer[], maxBytes: number): SplitFrames {
  const frames: Frame[] = [];
  const oversized: SplitFrames["oversized"] = [];
  let frame: AgentToServer[] = [];
  let parts: string[] = [];
  let size = 2; // "[" and "]"
  const close = () => {
    frames.push({ messages: frame, json: parts.length === 1 ? parts[0]! : `[${parts.join(",")}]` });
    frame = [];
    parts = [];
    size = 2;
  };
  for (const msg of messages) {
    const json = JSON.stringify(msg);
    const bytes = Buffer.byteLength(json);
    if (bytes + 2 > maxBytes) {
      oversized.push({ msg, bytes });
      continue;
    }
    if (frame.length > 0 && (size + bytes + 1 > maxBytes || frame.length >= MAX_FRAME_MESSAGES)) close();
    frame.push(msg);
    parts.push(json);
    size += bytes + 1;
  }
  if (frame.length > 0) close();
  return { frames, oversized };
}
