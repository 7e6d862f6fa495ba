import {
  ERROR_CODES,
  type ErrorCode,
  GantryError,
  isErrorCode,
  type SubmitItemResult,
  SubmitJobRequest,
} from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import { assertMaySubmit } from "../auth/job-access.ts";
import { hasScope, type Principal } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";
import { jobView } from "../job-view.ts";
import { isStorageFullError } from "../store/storage-errors.ts";

/** @fastify/rate-limit's checker: counts one request; isAllowed means allow-listed, isExceeded over the limit. */
type Limiter = (
  req: FastifyRequest,
) => Promise<{ isAllowed: boolean; isExceeded?: boolean; ttlInSeconds?: number; max?: number }>;

/** A zod failure as the HTTP routes report it: the registry code an issue names, else validation_failed. */
function validationError(err: z.ZodError): GantryError {
  const first = err.issues[0];
  const path = first ? `/${first.path.join("/")}` : "/";
  const named = err.issues.map((i) => (i as { params?: { code?: unknown } }).params?.code);
  const code =
    named.every((c) => c === named[0] && typeof c === "string" && isErrorCode(c)) && named.length > 0
      ? (named[0] as ErrorCode)
      : "validation_failed";
  const details = err.issues.map((i) => ({ in: "body", path: `/${i.path.join("/")}`, message: i.message }));
  return new GantryError(code, `Invalid job: ${path} ${first?.message ?? "does not match the schema"}.`, details);
}

function failed(err: unknown): SubmitItemResult {
  if (err instanceof GantryError) return { ok: false, error: err.toEnvelope().error };
  if (isStorageFullError(err)) return { ok: false, error: new GantryError("storage_full").toEnvelope().error };
  return { ok: false, error: new GantryError("internal_error").toEnvelope().error };
}

/**
 * The pipelined submit of the client WebSocket: the jobs of one `submit` frame, each checked as
 * `POST /v1/jobs` checks it (schema, jobs:write scope, the key's capabilities, the rate limit,
 * input files, plugin payloads), then the good ones inserted in one durable commit. The answer is
 * one result per item, in order, sent only after that commit. An idempotency conflict inside the
 * group rolls the group back in the store; the items are then submitted one by one so only the
 * conflicting one fails.
 */
export async function submitOverSocket(
  ctx: GantryContext,
  principal: Principal,
  request: FastifyRequest,
  limiter: Limiter | null,
  items: unknown[],
): Promise<SubmitItemResult[]> {
  const results: (SubmitItemResult | undefined)[] = new Array(items.length);
  const good: { index: number; job: SubmitJobRequest }[] = [];
  const owner = principal.owner;
  for (const [index, item] of items.entries()) {
    try {
      if (!hasScope(principal, "jobs:write")) {
        throw new GantryError("auth_forbidden", "This credential lacks the jobs:write scope.");
      }
      if (limiter) {
        const verdict = await limiter(request);
        if (!verdict.isAllowed && verdict.isExceeded) {
          const secs = verdict.ttlInSeconds ?? 1;
          throw new GantryError("rate_limited", `Too many requests; retry in ${secs} s.`, {
            limit: verdict.max,
            retryAfterSecs: secs,
          });
        }
      }
      const parsed = SubmitJobRequest.safeParse(item);
      if (!parsed.success) throw validationError(parsed.error);
      assertMaySubmit(principal, parsed.data.capability);
      const inputs = await ctx.files.resolveInputs(owner, parsed.data.inputs ?? []);
      good.push({ index, job: inputs.length ? { ...parsed.data, inputs } : parsed.data });
    } catch (err) {
      results[index] = failed(err);
    }
  }
  const settle = (list: typeof good, outcomes: Awaited<ReturnType<GantryContext["lifecycle"]["submit"]>>) => {
    for (const [k, g] of list.entries()) {
      const o = outcomes[k]!;
      results[g.index] = { ok: true, created: o.created, job: jobView(o.job) };
    }
  };
  if (good.length > 0) {
    try {
      settle(
        good,
        await ctx.lifecycle.submit(
          owner,
          good.map((g) => g.job),
        ),
      );
    } catch {
      // One item spoiled the group (an idempotency conflict, a bad plugin payload): each on its own.
      for (const g of good) {
        try {
          settle([g], await ctx.lifecycle.submit(owner, [g.job]));
        } catch (err) {
          results[g.index] = failed(err);
        }
      }
    }
  }
  return results.map(
    (r) => r ?? { ok: false, error: { code: "internal_error", message: ERROR_CODES.internal_error.message } },
  );
}
