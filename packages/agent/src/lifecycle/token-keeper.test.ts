import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenExpiresAt } from "./token-keeper.ts";

const jwt = (claims: Record<string, unknown>) =>
  `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

test("the lifetime comes from the JWT's exp - iat (server clock), whatever our clock says", () => {
  const token = jwt({ iat: 1_755_392_672, exp: 1_755_393_572 }); // 900 s
  for (const now of [1_755_392_672_000, 1_755_400_000_000, 1_700_000_000_000]) {
    assert.equal(tokenExpiresAt(token, 1_755_393_572, now), now + 899_000);
  }
});

test("without JWT times, expiresIn is absolute Unix seconds (the seed's tokenExpiresIn: 1755393572)", () => {
  const now = 1_755_393_000_000;
  assert.equal(tokenExpiresAt("opaque", 1_755_393_572, now), now + 571_000);
});

test("a small expiresIn from an older server is read as seconds from now", () => {
  assert.equal(tokenExpiresAt("opaque", 900, 1_000_000), 1_000_000 + 899_000);
});

test("short tokens keep at least half their lifetime", () => {
  assert.equal(tokenExpiresAt(jwt({ iat: 100, exp: 101 }), 101, 5_000), 5_500);
});
