import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "./backoff.ts";

const policy = { baseMs: 1000, capMs: 300_000 };

test("backoff: doubles per attempt with equal jitter, capped", () => {
  assert.equal(
    backoffDelay(0, policy, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(0, policy, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(2, policy, () => 1),
    4000,
  );
  assert.equal(
    backoffDelay(40, policy, () => 1),
    300_000,
  );
  assert.equal(
    backoffDelay(-3, policy, () => 1),
    1000,
  );
});
