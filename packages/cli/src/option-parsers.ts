import { readFileSync } from "node:fs";
import { JobStatus } from "@gantry/protocol";
import { InvalidArgumentError } from "commander";

/** Commander argument parsers: a bad value becomes a usage error naming the option. */

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError("must be an integer");
  return Number(value);
}

export function parseNonNegativeInteger(value: string): number {
  const n = parseInteger(value);
  if (n < 0) throw new InvalidArgumentError("must be 0 or more");
  return n;
}

export function parsePositiveInteger(value: string): number {
  const n = parseInteger(value);
  if (n < 1) throw new InvalidArgumentError("must be 1 or more");
  return n;
}

/** Seconds (may be fractional), > 0. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("must be a number of seconds > 0");
  return n;
}

/** Days (may be fractional), ≥ 0. */
export function parseDays(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("must be a number of days ≥ 0");
  return n;
}

export function parsePort(value: string): number {
  const n = parseInteger(value);
  if (n < 0 || n > 65_535) throw new InvalidArgumentError("must be a port number 0-65535 (0 = any free port)");
  return n;
}

/** A JSON value given inline, or `@path` to read it from a file. */
export function parseJson(value: string): unknown {
  let text = value;
  if (value.startsWith("@")) {
    try {
      text = readFileSync(value.slice(1), "utf8");
    } catch (error) {
      throw new InvalidArgumentError(`cannot read ${value.slice(1)}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not valid JSON (${(error as Error).message})`);
  }
}

/** `queued,running` → ["queued", "running"], each checked against JobStatus. */
export function parseStatusList(value: string): JobStatus[] {
  const parts = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((s) => !JobStatus.safeParse(s).success);
  if (parts.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`must be a comma-separated list of ${JobStatus.options.join(", ")}`);
  }
  return parts as JobStatus[];
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A byte size: a whole number, optionally with K, M, G or T (binary: 1K = 1024), e.g. `2G`. */
export function parseByteSize(value: string): number {
  const m = /^(\d+)\s*([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError("must be a size in bytes, e.g. 1048576, 500M or 2G");
  const n = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (n < 1) throw new InvalidArgumentError("must be at least 1 byte");
  return n;
}

/** Splits `a,b,c` option values (empty items dropped). */
export function parseCommaList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
