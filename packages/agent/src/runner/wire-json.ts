/**
 * What a job payload or output must be to travel: plain JSON, not nested too deep, not too large.
 * Structured clone (worker threads) and JSON.stringify (the wire) both recurse on the stack and throw
 * on BigInt, functions or cycles, in places where a throw kills the agent or its worker thread; this
 * check runs first, bounded, so such a value becomes a clean `fatal` job failure instead.
 */

/** Deepest nesting passed to an executor or sent back. Far above real payloads, far below V8's stack. */
export const MAX_JSON_DEPTH = 512;
/** Largest job output in serialised bytes: half the WebSocket frame limit (see frame-limits.ts). */
export const MAX_OUTPUT_BYTES = 8 * 1024 * 1024 - 4096;

export type JsonCheck = { ok: true; json: string } | { ok: false; problem: string };

/** Checks `value` and serialises it; `what` names it in the problem ("payload", "output"). */
export function checkWireJson(value: unknown, what: string, maxBytes = Number.POSITIVE_INFINITY): JsonCheck {
  const problem = findWireProblem(value, what);
  if (problem) return { ok: false, problem };
  let json: string;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    // A toJSON() that throws or returns something unserialisable.
    return { ok: false, problem: `${what} cannot be serialised: ${(err as Error).message}` };
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) return { ok: false, problem: `${what} is too large: ${bytes} bytes (limit ${maxBytes})` };
  return { ok: true, json };
}

/** What keeps `value` from travelling as JSON (BigInt, function, cycle, too deep), or null. Never serialises. */
export function findWireProblem(value: unknown, what: string): string | null {
  const found = findProblem(value, 0, new Set());
  if (!found) return null;
  const steps = found.path.reverse();
  const at = steps.length > 8 ? `${steps.slice(0, 4).join("")}…${steps.slice(-2).join("")}` : steps.join("");
  return `${what}${at} ${found.why}`;
}

interface Problem {
  /** Steps from the value found back to the root (reversed for the message). */
  path: string[];
  why: string;
}

/** Depth-first, never deeper than MAX_JSON_DEPTH frames; the path is built only on the way out of a problem. */
function findProblem(v: unknown, depth: number, ancestors: Set<object>): Problem | null {
  switch (typeof v) {
    case "bigint":
      return { path: [], why: "is a BigInt, which JSON cannot carry (return it as a string)" };
    case "function":
    case "symbol":
      return { path: [], why: `is a ${typeof v}, which JSON cannot carry` };
    case "object":
      break;
    default:
      return null;
  }
  if (v === null || typeof (v as { toJSON?: unknown }).toJSON === "function") return null;
  if (depth >= MAX_JSON_DEPTH) return { path: [], why: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (ancestors.has(v)) return { path: [], why: "refers back to itself (a cycle), which JSON cannot carry" };
  ancestors.add(v);
  try {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = findProblem(v[i], depth + 1, ancestors);
        if (p) {
          p.path.push(`[${i}]`);
          return p;
        }
      }
    } else {
      for (const k of Object.keys(v)) {
        const p = findProblem((v as Record<string, unknown>)[k], depth + 1, ancestors);
        if (p) {
          p.path.push(`.${k}`);
          return p;
        }
      }
    }
    return null;
  } finally {
    ancestors.delete(v);
  }
}
