import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { importJWK, jwtVerify } from "jose";
import { Api } from "./helpers/api.ts";
import { post } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
let url: string;
before(async () => {
  t = await testServer();
  url = t.server.url;
});
after(() => t.close());

const as = (credential: string) => new Api(url, credential);
async function login(username: string, password: string) {
  const r = await post(`${url}/v1/auth/login`, { username, password });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { accessToken: string; refreshToken: string; mustChangePassword: boolean };
}
let adminToken = "";
const NEW_ADMIN_PASSWORD = "a-new-admin-password-42";

test("the bootstrap admin is told to change its password; changing it ends the session", async () => {
  const boot = t.server.bootstrap;
  const first = await login(boot.adminUser, boot.adminPassword);
  assert.equal(first.mustChangePassword, true);
  const me = await as(first.accessToken).call("GET", "/v1/auth/me");
  assert.equal(me.status, 200);
  assert.equal(me.body.username, "admin");
  assert.equal(me.body.isAdmin, true);
  assert.deepEqual(me.body.permissions, ["admin"]);

  const wrong = await as(first.accessToken).call("POST", "/v1/auth/password", {
    currentPassword: "not-it",
    newPassword: NEW_ADMIN_PASSWORD,
  });
  assert.equal(wrong.body.error.code, "auth_login_failed");
  const short = await as(first.accessToken).call("POST", "/v1/auth/password", {
    currentPassword: boot.adminPassword,
    newPassword: "short",
  });
  assert.equal(short.status, 400);
  const ok = await as(first.accessToken).call("POST", "/v1/auth/password", {
    currentPassword: boot.adminPassword,
    newPassword: NEW_ADMIN_PASSWORD,
  });
  assert.equal(ok.status, 204);
  assert.equal((await as(first.accessToken).call("GET", "/v1/auth/me")).body.error.code, "auth_invalid");
  assert.equal((await post(`${url}/v1/auth/refresh`, { refreshToken: first.refreshToken })).status, 401);
  assert.equal((await post(`${url}/v1/auth/login`, { username: "admin", password: boot.adminPassword })).status, 401);
  const again = await login("admin", NEW_ADMIN_PASSWORD);
  assert.equal(again.mustChangePassword, false);
  adminToken = again.accessToken;
});

test("JWKS publishes the key that verifies access tokens", async () => {
  const r = await fetch(`${url}/v1/auth/jwks`);
  const jwks = (await r.json()) as { keys: Record<string, string>[] };
  const jwk = jwks.keys[0]!;
  assert.equal(jwk.alg, "ES256");
  assert.equal(jwk.d, undefined, "no private part");
  const { payload, protectedHeader } = await jwtVerify(adminToken, await importJWK(jwk, "ES256"));
  assert.equal(protectedHeader.kid, jwk.kid);
  assert.equal(payload.aud, "gantry-user");
});

test("admin user CRUD with paging; duplicates, self-lockout and non-admins refused", async () => {
  const admin = as(adminToken);
  const created = await admin.call("POST", "/v1/users", {
    username: "alice",
    password: "alice-password-1",
    permissions: ["jobs:read", "jobs:write"],
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.isAdmin, false);
  assert.equal(created.body.passwordHash, undefined);
  const dup = await admin.call("POST", "/v1/users", { username: "alice", password: "another-password" });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, "user_exists");
  await admin.call("POST", "/v1/users", { username: "bob", password: "bob-password-12", permissions: ["jobs:read"] });

  const page1 = await admin.call("GET", "/v1/users?limit=2");
  assert.equal(page1.body.users.length, 2);
  assert.ok(page1.body.next);
  const page2 = await admin.call("GET", `/v1/users?limit=2&after=${page1.body.next}`);
  const names = [...page1.body.users, ...page2.body.users].map((u: { username: string }) => u.username).sort();
  assert.deepEqual(names, ["admin", "alice", "bob"]);
  assert.equal(page2.body.next, null);

  const alice = await login("alice", "alice-password-1");
  assert.equal(alice.mustChangePassword, false);
  const aliceApi = as(alice.accessToken);
  assert.equal((await aliceApi.call("GET", "/v1/users")).status, 403, "not an admin");
  const me = (await admin.call("GET", "/v1/auth/me")).body;
  assert.equal((await admin.call("DELETE", `/v1/users/${me.id}`)).body.error.code, "user_self_lockout");
  assert.equal(
    (await admin.call("PATCH", `/v1/users/${me.id}`, { active: false })).body.error.code,
    "user_self_lockout",
  );
  assert.equal((await admin.call("PATCH", `/v1/users/${created.body.id}`, {})).status, 400);

  // Permissions change take effect on live tokens.
  const patched = await admin.call("PATCH", `/v1/users/${created.body.id}`, { permissions: ["jobs:read"] });
  assert.deepEqual(patched.body.permissions, ["jobs:read"]);
  assert.equal((await aliceApi.call("POST", "/v1/jobs", { capability: "x.y" })).status, 403);
  // Deactivation ends the session and refuses logins.
  await admin.call("PATCH", `/v1/users/${created.body.id}`, { active: false });
  assert.equal((await aliceApi.call("GET", "/v1/auth/me")).status, 401);
  assert.equal((await post(`${url}/v1/auth/login`, { username: "alice", password: "alice-password-1" })).status, 401);

  assert.equal((await admin.call("DELETE", `/v1/users/${created.body.id}`)).status, 204);
  assert.equal((await admin.call("DELETE", `/v1/users/${created.body.id}`)).body.error.code, "user_not_found");
  assert.equal((await admin.call("GET", `/v1/users/${created.body.id}`)).status, 404);
});

test("refresh tokens rotate; reusing a spent one revokes the whole session", async () => {
  const s1 = await login("bob", "bob-password-12");
  const r1 = await post(`${url}/v1/auth/refresh`, { refreshToken: s1.refreshToken });
  assert.equal(r1.status, 200);
  assert.notEqual(r1.body.refreshToken, s1.refreshToken);
  assert.equal((await as(r1.body.accessToken).call("GET", "/v1/auth/me")).status, 200);
  const other = await login("bob", "bob-password-12");

  const reuse = await post(`${url}/v1/auth/refresh`, { refreshToken: s1.refreshToken });
  assert.equal(reuse.status, 401);
  assert.equal(reuse.body.error.code, "auth_refresh_reused");
  assert.equal((await post(`${url}/v1/auth/refresh`, { refreshToken: r1.body.refreshToken })).status, 401);
  assert.equal((await as(r1.body.accessToken).call("GET", "/v1/auth/me")).status, 401, "access token ended too");
  assert.equal((await as(other.accessToken).call("GET", "/v1/auth/me")).status, 200, "another session lives on");

  // Logout ends that session server-side, tokens and all.
  assert.equal((await as(other.accessToken).call("POST", "/v1/auth/logout")).status, 204);
  assert.equal((await as(other.accessToken).call("GET", "/v1/auth/me")).status, 401);
  assert.equal((await post(`${url}/v1/auth/refresh`, { refreshToken: other.refreshToken })).status, 401);
  assert.equal((await as(t.server.bootstrap.clientKey).call("POST", "/v1/auth/logout")).status, 403);
});

test("API keys: shown once, scoped to capability patterns, revoked at once; last use recorded", async () => {
  const admin = as(adminToken);
  const created = await admin.call("POST", "/v1/keys", {
    name: "llm only",
    scopes: ["jobs:read", "jobs:write"],
    capabilities: ["llm.*"],
  });
  assert.equal(created.status, 201);
  const secret: string = created.body.key;
  assert.ok(secret.startsWith("gnt_c_"));
  assert.equal(created.body.prefix, secret.slice(0, 10));
  const llm = as(secret);
  const me = (await llm.call("GET", "/v1/auth/me")).body;
  assert.deepEqual(me.capabilities, ["llm.*"]);
  assert.equal((await llm.submit({ capability: "llm.mistral[gpu]" })).capability, "llm.mistral[gpu]");
  const ocr = await llm.call("POST", "/v1/jobs", { capability: "ocr.tesseract" });
  assert.equal(ocr.status, 403);
  const batch = await llm.call("POST", "/v1/jobs/batch", { jobs: [{ capability: "llm.a" }, { capability: "ocr.b" }] });
  assert.equal(batch.status, 403);
  // The same owner's ocr job (submitted by admin with owner = admin) is invisible to the llm key.
  const ocrJob = await admin.submit({ capability: "ocr.tesseract" });
  assert.equal((await llm.call("GET", `/v1/jobs/${ocrJob.id}`)).status, 404);
  const listed = (await llm.call("GET", "/v1/jobs")).body.jobs as { capability: string }[];
  assert.ok(listed.length > 0 && listed.every((j) => j.capability.startsWith("llm.")));

  const got = (await admin.call("GET", `/v1/keys/${created.body.id}`)).body;
  assert.equal(got.key, undefined, "never shown again");
  assert.ok(got.lastUsedAt, "last use recorded");

  const revoked = await admin.call("DELETE", `/v1/keys/${created.body.id}`);
  assert.ok(revoked.body.revokedAt);
  assert.equal((await llm.call("GET", "/v1/auth/me")).body.error.code, "auth_invalid");
});

test("keys:manage grants no more than it holds and sees only its own keys", async () => {
  const admin = as(adminToken);
  await admin.call("POST", "/v1/users", {
    username: "carol",
    password: "carol-password-1",
    permissions: ["jobs:read", "keys:manage"],
  });
  const carol = as((await login("carol", "carol-password-1")).accessToken);
  const tooMuch = await carol.call("POST", "/v1/keys", { scopes: ["jobs:write"] });
  assert.equal(tooMuch.status, 403);
  assert.equal((await carol.call("POST", "/v1/keys", { kind: "enrolment" })).status, 403);
  assert.equal((await carol.call("POST", "/v1/keys", { scopes: ["jobs:read"], owner: "someone" })).status, 403);
  const own = await carol.call("POST", "/v1/keys", { scopes: ["jobs:read"] });
  assert.equal(own.status, 201);
  const listed = (await carol.call("GET", "/v1/keys")).body.keys as { id: string }[];
  assert.deepEqual(
    listed.map((k) => k.id),
    [own.body.id],
  );
  const adminKeys = (await admin.call("GET", "/v1/keys?limit=200")).body.keys as { id: string }[];
  const foreign = adminKeys.find((k) => k.id !== own.body.id)!;
  assert.equal((await carol.call("DELETE", `/v1/keys/${foreign.id}`)).status, 404);
  assert.equal((await carol.call("GET", `/v1/keys/${foreign.id}`)).status, 404);
});

test("enrolment keys limited to N agents enrol N; revoked ones none", async () => {
  const admin = as(adminToken);
  const single = await admin.call("POST", "/v1/keys", { kind: "enrolment", maxUses: 1 });
  assert.ok(single.body.key.startsWith("gnt_a_"));
  assert.equal((await post(`${url}/agent/register`, { apiKey: single.body.key })).status, 200);
  const second = await post(`${url}/agent/register`, { apiKey: single.body.key });
  assert.equal(second.status, 401);
  assert.equal(second.body.error.code, "agent_enrolment_invalid");
  assert.equal((await admin.call("GET", `/v1/keys/${single.body.id}`)).body.uses, 1);
  assert.equal((await admin.call("POST", "/v1/keys", { kind: "client", maxUses: 3 })).status, 400);

  const many = await admin.call("POST", "/v1/keys", { kind: "enrolment" });
  await admin.call("DELETE", `/v1/keys/${many.body.id}`);
  assert.equal((await post(`${url}/agent/register`, { apiKey: many.body.key })).status, 401);
});

test("audit lists admin actions and failed logins, newest first; admins only", async () => {
  const admin = as(adminToken);
  await post(`${url}/v1/auth/login`, { username: "nobody", password: "whatever-it-is" });
  const r = await admin.call("GET", "/v1/audit?limit=200");
  assert.equal(r.status, 200);
  const actions = (r.body.events as { action: string }[]).map((e) => e.action);
  for (const a of [
    "user.create",
    "user.update",
    "user.delete",
    "key.create",
    "key.revoke",
    "auth.login_failed",
    "auth.refresh_reused",
  ]) {
    assert.ok(actions.includes(a), `${a} audited`);
  }
  assert.equal(actions[0], "auth.login_failed");
  assert.ok(!JSON.stringify(r.body).includes("whatever-it-is"), "no password in the audit");
  assert.equal((await as(t.server.bootstrap.clientKey).call("GET", "/v1/audit")).status, 403);
});
