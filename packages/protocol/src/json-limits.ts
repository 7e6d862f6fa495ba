/**
 * Bounds on the JSON that jobs carry, so that every agent can hold, copy (postMessage, structured
 * clone) and serialise it: at depth ~2,000 an agent wedged, at ~4,100 it crashed, deeper the server
 * answered 500. Measured on request bodies before anything parses them recursively.
 */
export const JSON_LIMITS = {
  /** Deepest nesting a job's payload (or output) may have; objects and arrays count one level each. */
  payloadMaxDepth: 64,
  /** Extra levels a request body may add around payloads (batch `jobs[]`, agent message lists). */
  bodyDepthAllowance: 8,
  /** Longest payload, serialised, in characters (the 1 MiB HTTP body limit bounds the whole request). */
  payloadMaxChars: 512 * 1024,
} as const;

/**
 * The nesting depth of raw JSON text, counted without recursion and without parsing, stopping as soon
 * as `limit` is passed (so a 100,000-deep body costs no more than a 65-deep one). Brackets inside
 * strings are skipped. Malformed text is left for JSON.parse to report.
 */
export function jsonTextDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The nesting depth of a parsed value (iterative; a scalar is depth 0), stopping past `limit`. */
export function jsonValueDepthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (d + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}
