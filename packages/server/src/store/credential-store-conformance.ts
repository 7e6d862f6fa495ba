import assert from "node:assert/strict";
import { test } from "node:test";
import { ulid } from "ulid";
import type { ApiKeyRecord, UserRecord } from "./credential-store.ts";
import type { Store } from "./store.ts";

export function newKey(over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  const id = over.id ?? `key_${Math.random().toString(36).slice(2)}`;
  return {
    id,
    kind: "client",
    prefix: "gnt_c_abcd",
    hash: `hash-${id}`,
    owner: "usr_1",
    scopes: ["jobs:read"],
    capabilities: null,
    name: null,
    createdAt: 1000,
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    maxUses: null,
    uses: 0,
    ...over,
  };
}

export function newUser(over: Partial<UserRecord> = {}): UserRecord {
  const id = over.id ?? `usr_${Math.random().toString(36).slice(2)}`;
  return {
    id,
    username: `u-${id}`,
    passwordHash: "h",
    scopes: ["jobs:read"],
    active: true,
    mustChangePassword: false,
    createdAt: 1000,
    ...over,
  };
}

/** The credential behaviour every Store must have (users, keys, refresh families, audit). */
export function credentialStoreConformance(name: string, open: () => Promise<Store>): void {
  const withStore = (title: string, fn: (s: Store) => Promise<void>) =>
    test(`${name} credentials: ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  withStore("keys round-trip every field; list by owner pages by id; revoke keeps the first time", async (s) => {
    const a = newKey({ id: "key_a", capabilities: ["llm.*"], expiresAt: 5000, maxUses: 2, owner: "o1" });
    await s.insertApiKey(a);
    await s.insertApiKey(newKey({ id: "key_b", owner: "o2" }));
    await s.insertApiKey(newKey({ id: "key_c", owner: "o1" }));
    assert.deepEqual(await s.findApiKeyByHash(a.hash), a);
    assert.deepEqual(await s.getApiKey("key_a"), a);
    assert.deepEqual(
      (await s.listApiKeys("o1", { after: null, limit: 10 })).map((k) => k.id),
      ["key_a", "key_c"],
    );
    assert.deepEqual(
      (await s.listApiKeys(null, { after: "key_a", limit: 1 })).map((k) => k.id),
      ["key_b"],
    );
    assert.equal((await s.revokeApiKey("key_a", 7000))?.revokedAt, 7000);
    assert.equal((await s.revokeApiKey("key_a", 9000))?.revokedAt, 7000);
    assert.equal(await s.revokeApiKey("nope", 1), undefined);
  });

  withStore("touchApiKey writes at most once per gap", async (s) => {
    await s.insertApiKey(newKey({ id: "key_t" }));
    await s.touchApiKey("key_t", 100_000, 60_000);
    await s.touchApiKey("key_t", 120_000, 60_000);
    assert.equal((await s.getApiKey("key_t"))?.lastUsedAt, 100_000);
    await s.touchApiKey("key_t", 170_000, 60_000);
    assert.equal((await s.getApiKey("key_t"))?.lastUsedAt, 170_000);
  });

  withStore("useEnrolmentKey: counts uses up to maxUses; refuses revoked, expired and client keys", async (s) => {
    await s.insertApiKey(newKey({ id: "key_e", kind: "enrolment", hash: "e", maxUses: 2 }));
    await s.insertApiKey(newKey({ id: "key_x", kind: "enrolment", hash: "x", expiresAt: 50 }));
    await s.insertApiKey(newKey({ id: "key_r", kind: "enrolment", hash: "r", revokedAt: 1 }));
    await s.insertApiKey(newKey({ id: "key_c", kind: "client", hash: "c" }));
    const uses = await Promise.all([1, 2, 3].map(() => s.useEnrolmentKey("e", 100)));
    assert.equal(uses.filter(Boolean).length, 2, "a key for two agents enrols two, even at once");
    assert.equal((await s.getApiKey("key_e"))?.uses, 2);
    assert.equal(await s.useEnrolmentKey("x", 100), undefined);
    assert.equal(await s.useEnrolmentKey("r", 100), undefined);
    assert.equal(await s.useEnrolmentKey("c", 100), undefined);
    assert.equal(await s.useEnrolmentKey("unknown", 100), undefined);
  });

  withStore("users: insert, list by id, update (patch), delete", async (s) => {
    const u = newUser({ id: "usr_a", username: "alice", mustChangePassword: true });
    await s.insertUser(u);
    await s.insertUser(newUser({ id: "usr_b", username: "bob" }));
    assert.deepEqual(await s.findUserByName("alice"), u);
    assert.deepEqual(
      (await s.listUsers({ after: "usr_a", limit: 5 })).map((x) => x.username),
      ["bob"],
    );
    const updated = await s.updateUser("usr_a", { scopes: ["admin"], active: false }, 2000);
    assert.deepEqual(updated, { ...u, scopes: ["admin"], active: false });
    assert.equal(await s.updateUser("nope", { active: true }, 1), undefined);
    assert.equal(await s.deleteUser("usr_b", 1), true);
    assert.equal(await s.deleteUser("usr_b", 1), false);
    assert.equal(await s.getUser("usr_b"), undefined);
  });

  withStore("refresh: rotation spends once; reuse revokes the whole family; expired is invalid", async (s) => {
    await s.insertRefreshToken("r1", "usr_1", "fam", 10_000);
    await s.insertRefreshToken("other", "usr_1", "fam2", 10_000);
    assert.equal(await s.sessionRevoked("fam"), false);
    assert.deepEqual(await s.rotateRefreshToken("r1", "r2", 100, 10_000), {
      kind: "rotated",
      userId: "usr_1",
      familyId: "fam",
    });
    // r1 again (a thief, or the user, holds a copy): the family, r2 included, is revoked.
    assert.deepEqual(await s.rotateRefreshToken("r1", "r3", 200, 10_000), {
      kind: "reused",
      userId: "usr_1",
      familyId: "fam",
    });
    assert.equal((await s.rotateRefreshToken("r2", "r4", 300, 10_000)).kind, "invalid");
    assert.equal(await s.sessionRevoked("fam"), true);
    assert.equal(await s.sessionRevoked("fam2"), false, "another session of the user lives on");
    assert.equal((await s.rotateRefreshToken("other", "o2", 20_000, 30_000)).kind, "invalid", "expired");
    assert.equal((await s.rotateRefreshToken("never", "n2", 1, 2)).kind, "invalid");
    assert.equal(await s.sessionRevoked("unknown"), true);
  });

  withStore("refresh: two rotations of one token at once: one rotates, the other is a reuse", async (s) => {
    await s.insertRefreshToken("r1", "usr_1", "fam", 10_000);
    const out = await Promise.all([s.rotateRefreshToken("r1", "a", 1, 9), s.rotateRefreshToken("r1", "b", 1, 9)]);
    assert.deepEqual(out.map((o) => o.kind).sort(), ["reused", "rotated"]);
  });

  withStore("logout, deactivation, password change and delete revoke sessions", async (s) => {
    await s.insertUser(newUser({ id: "usr_z" }));
    for (const f of ["f1", "f2", "f3", "f4"]) await s.insertRefreshToken(`t-${f}`, "usr_z", f, 10_000);
    await s.revokeRefreshFamily("f1", 1);
    assert.equal(await s.sessionRevoked("f1"), true);
    assert.equal(await s.sessionRevoked("f2"), false);
    await s.updateUser("usr_z", { scopes: ["jobs:write"] }, 2);
    assert.equal(await s.sessionRevoked("f2"), false, "a permission change keeps sessions");
    await s.updateUser("usr_z", { passwordHash: "new" }, 3);
    assert.equal(await s.sessionRevoked("f2"), true);
    await s.insertRefreshToken("t-f5", "usr_z", "f5", 10_000);
    await s.deleteUser("usr_z", 4);
    assert.equal(await s.sessionRevoked("f5"), true);
  });

  withStore("audit retention: deletes the oldest entries before the cutoff, a bounded batch per call", async (s) => {
    const day = 86_400_000;
    const base = Date.UTC(2026, 0, 1);
    const ats = [0, 1, 2, 3, 10, 11].map((d) => base + d * day);
    for (const at of ats) {
      await s.insertAudit({ id: ulid(at), at, actor: null, action: "auth.login_failed", target: "x", details: null });
    }
    const cutoff = base + 5 * day;
    assert.equal(await s.deleteAuditBefore(cutoff, 3), 3);
    assert.equal(await s.deleteAuditBefore(cutoff, 3), 1);
    assert.equal(await s.deleteAuditBefore(cutoff, 3), 0);
    const left = await s.listAudit({ after: null, limit: 10 });
    assert.deepEqual(
      left.map((e) => e.at),
      [ats[5], ats[4]],
      "only the entries at or after the cutoff are left",
    );
  });

  withStore("audit: newest first, paged", async (s) => {
    for (const i of [1, 2, 3]) {
      await s.insertAudit({
        id: `01AUDIT000000000000000000${i}`,
        at: i,
        actor: i === 1 ? null : "usr_1",
        action: "user.create",
        target: `usr_${i}`,
        details: i === 2 ? { a: [1] } : null,
      });
    }
    const first = await s.listAudit({ after: null, limit: 2 });
    assert.deepEqual(
      first.map((e) => e.at),
      [3, 2],
    );
    assert.deepEqual(first[1]?.details, { a: [1] });
    const rest = await s.listAudit({ after: first[1]!.id, limit: 2 });
    assert.deepEqual(
      rest.map((e) => [e.at, e.actor]),
      [[1, null]],
    );
  });
}
