import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { Principals } from "./principals.ts";
import { generateSecret, hashSecret, keyPrefix } from "./secrets.ts";
import { loadServerKeys } from "./server-keys.ts";
import { Tokens } from "./tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-principals-"));
const store = openSqliteStore(join(dir, "gantry.db"));
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function addKey(): Promise<string> {
  const secret = generateSecret("client");
  await store.insertApiKey({
    id: `key_${hashSecret(secret).slice(0, 12)}`,
    kind: "client",
    prefix: keyPrefix(secret),
    hash: hashSecret(secret),
    owner: "usr_1",
    scopes: ["jobs:read"],
    name: null,
    capabilities: null,
    createdAt: Date.now(),
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    maxUses: null,
    uses: 0,
  });
  return secret;
}

test("random keys tried are not cached, and the cache of real keys is bounded", async () => {
  const principals = new Principals(store, new Tokens(await loadServerKeys(dir), 900), { max: 3, ttlMs: 60_000 });
  for (let i = 0; i < 50; i++) {
    await assert.rejects(principals.fromBearer(generateSecret("client")), { code: "auth_invalid" });
  }
  assert.equal(principals.cachedKeys, 0);
  const keys = await Promise.all(Array.from({ length: 6 }, addKey));
  for (const k of keys) assert.equal((await principals.fromBearer(k)).owner, "usr_1");
  assert.equal(principals.cachedKeys, 3);
  // Evicted keys still resolve (from the store).
  assert.equal((await principals.fromBearer(keys[0]!)).owner, "usr_1");
});

test("an expired key is refused even from the cache; a revoked one at once after forgetKey", async () => {
  const principals = new Principals(store, new Tokens(await loadServerKeys(dir), 900));
  const secret = generateSecret("client");
  const now = Date.now();
  await store.insertApiKey({
    id: "key_expiring",
    kind: "client",
    prefix: keyPrefix(secret),
    hash: hashSecret(secret),
    owner: "usr_2",
    scopes: ["jobs:read"],
    capabilities: ["llm.*"],
    name: null,
    createdAt: now,
    expiresAt: now + 150,
    lastUsedAt: null,
    revokedAt: null,
    maxUses: null,
    uses: 0,
  });
  const p = await principals.fromBearer(secret);
  assert.deepEqual(p.capabilities, ["llm.*"]);
  assert.equal(await principals.stillValid(p), true);
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(principals.fromBearer(secret), { code: "auth_invalid" });
  assert.equal(await principals.stillValid(p), false);

  const other = await addKey();
  const q = await principals.fromBearer(other);
  await store.revokeApiKey(q.id, Date.now());
  principals.forgetKey(hashSecret(other));
  await assert.rejects(principals.fromBearer(other), { code: "auth_invalid" });
  assert.equal(await principals.stillValid(q), false);
});
