import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenExpiresAt } from "./token-keeper.ts";

test("expiresIn is read as absolute Unix seconds, as the server and the seed's config file hold it", () => {
  const now = 1_755_390_000_000;
  assert.equal(tokenExpiresAt(1_755_393_572, now), 1_755_393_572_000);
});

test("a small expiresIn from an older server is read as seconds from now", () => {
  assert.equal(tokenExpiresAt(900, 1_000_000), 1_000_000 + 900_000);
});

test("a server clock far behind ours still leaves the token a short lifetime, not a re-auth loop", () => {
  const now = 1_755_400_000_000;
  assert.equal(tokenExpiresAt(1_755_393_572, now), now + 10_000);
});
