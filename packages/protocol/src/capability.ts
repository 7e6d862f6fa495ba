import { z } from "zod";

/**
 * Capability strings: `name[attr;attr;key:value]`, e.g. `llm.llama3-8b[gpu;cuda12;ctx:8192]`.
 * The base name routes work; attributes are metadata. Names are dotted segments; matching is
 * case-insensitive (the parsed name and attribute keys are lowercased), so the offloadmq seed's
 * `GENERAL_COMPUTE` and a client's `general_compute` meet. The string itself is kept as written.
 */
export interface Capability {
  /** Base name used for matching, e.g. `llm.llama3-8b`. */
  name: string;
  /** Flag attributes (`gpu`) map to `true`, key/value attributes to their string value. */
  attributes: Record<string, string | true>;
}

const NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/i;
const ATTR_KEY = /^[a-z0-9][a-z0-9_.-]*$/i;
const ATTR_VALUE = /^[A-Za-z0-9_.+\-/]+$/;
export const CAPABILITY_MAX_LENGTH = 200;

export class CapabilityParseError extends Error {}

/** Parses a capability string; throws CapabilityParseError with a message fit for a 400. */
export function parseCapability(input: string): Capability {
  if (input.length === 0 || input.length > CAPABILITY_MAX_LENGTH) {
    throw new CapabilityParseError(`capability must be 1-${CAPABILITY_MAX_LENGTH} characters`);
  }
  const open = input.indexOf("[");
  const name = open === -1 ? input : input.slice(0, open);
  if (!NAME.test(name)) {
    throw new CapabilityParseError(
      `capability name "${name}" must be dotted segments of letters, digits, "-" or "_" (e.g. llm.mistral-7b)`,
    );
  }
  const attributes: Record<string, string | true> = {};
  if (open !== -1) {
    if (!input.endsWith("]") || input.indexOf("[", open + 1) !== -1) {
      throw new CapabilityParseError(`capability "${input}" must end with one [attr;key:value] block`);
    }
    const body = input.slice(open + 1, -1);
    if (body.length === 0) throw new CapabilityParseError(`capability "${input}" has an empty attribute block`);
    for (const part of body.split(";")) {
      const colon = part.indexOf(":");
      const key = (colon === -1 ? part : part.slice(0, colon)).toLowerCase();
      if (!ATTR_KEY.test(key)) throw new CapabilityParseError(`capability attribute "${part}" is malformed`);
      if (key in attributes) throw new CapabilityParseError(`capability attribute "${key}" is repeated`);
      if (colon === -1) {
        attributes[key] = true;
      } else {
        const value = part.slice(colon + 1);
        if (!ATTR_VALUE.test(value)) throw new CapabilityParseError(`capability attribute "${part}" has a bad value`);
        attributes[key] = value;
      }
    }
  }
  return { name: name.toLowerCase(), attributes };
}

export function formatCapability(cap: Capability): string {
  const attrs = Object.entries(cap.attributes).map(([k, v]) => (v === true ? k : `${k}:${v}`));
  return attrs.length === 0 ? cap.name : `${cap.name}[${attrs.join(";")}]`;
}

/** The base name of a capability string (throws on malformed input). */
export function capabilityName(input: string): string {
  return parseCapability(input).name;
}

/** A capability string on the wire: validated by parsing, kept as written. */
export const CapabilityString = z.string().superRefine((value, ctx) => {
  try {
    parseCapability(value);
  } catch (err) {
    // params.code lets the server answer with the specific registry code instead of validation_failed.
    ctx.addIssue({ code: "custom", message: (err as Error).message, params: { code: "invalid_capability" } });
  }
});
