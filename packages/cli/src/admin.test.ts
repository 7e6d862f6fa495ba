import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SessionManager } from "@gantry/client";
import { type GantryServer, startServer } from "@gantry/server";
import { EXIT } from "./exit-codes.ts";
import { runCli } from "./run-cli.ts";

// `gantry admin …` in-process against a real server over loopback, and the SDK's user management.
let dir: string;
let server: GantryServer;
let adminToken: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gantry-admin-cli-"));
  server = await startServer({ port: 0, dataDir: dir, logLevel: "warn" });
  const session = new SessionManager({ url: server.url });
  await session.login("admin", server.bootstrap.adminPassword);
  adminToken = await session.getValidToken();
  process.env.GANTRY_URL = server.url;
  process.env.GANTRY_API_KEY = adminToken;
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gantry(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

test("admin users: create (password from the environment), list, update, delete, with --json", async () => {
  process.env.GANTRY_NEW_PASSWORD = "frank-password-12";
  const created = await gantry("admin", "users", "create", "frank", "--permissions", "jobs:read,jobs:write", "--json");
  delete process.env.GANTRY_NEW_PASSWORD;
  assert.equal(created.code, EXIT.ok, created.err);
  const user = JSON.parse(created.out);
  assert.deepEqual(user.permissions, ["jobs:read", "jobs:write"]);
  const listed = await gantry("admin", "users", "list");
  assert.match(listed.out, /frank/);
  const updated = await gantry(
    "admin",
    "users",
    "update",
    user.id,
    "--permissions",
    "jobs:read",
    "--deactivate",
    "--json",
  );
  assert.equal(JSON.parse(updated.out).active, false);
  assert.equal((await gantry("admin", "users", "update", user.id)).code, EXIT.usage);
  assert.equal((await gantry("admin", "users", "delete", user.id)).code, EXIT.ok);
  const again = await gantry("admin", "users", "delete", user.id);
  assert.notEqual(again.code, EXIT.ok);
  assert.match(again.err, /No user with that id/);
});

test("admin keys: create prints the secret once; list never does; revoke; agents revoke; audit", async () => {
  const created = await gantry("admin", "keys", "create", "--capabilities", "llm.*", "--name", "ci", "--json");
  assert.equal(created.code, EXIT.ok, created.err);
  const key = JSON.parse(created.out);
  assert.ok(key.key.startsWith("gnt_c_"));
  const listed = await gantry("admin", "keys", "list", "--json");
  assert.ok(!listed.out.includes(key.key), "listings never show a secret");
  assert.ok(JSON.parse(listed.out).keys.some((k: { id: string }) => k.id === key.id));
  const revoked = await gantry("admin", "keys", "revoke", key.id, "--json");
  assert.ok(JSON.parse(revoked.out).revokedAt);

  const reg = await fetch(`${server.url}/agent/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiKey: server.bootstrap.agentKey }),
  });
  const { agentId } = (await reg.json()) as { agentId: string };
  assert.equal((await gantry("admin", "agents", "revoke", agentId)).code, EXIT.ok);

  const audit = JSON.parse((await gantry("admin", "audit", "--json")).out);
  const actions = audit.events.map((e: { action: string }) => e.action);
  for (const a of ["agent.revoke", "key.revoke", "key.create", "user.delete", "user.create"])
    assert.ok(actions.includes(a), a);
});

test("SessionManager manages users: create, list, update permissions, delete", async () => {
  const session = new SessionManager({ url: server.url });
  await session.login("admin", server.bootstrap.adminPassword);
  const user = await session.createUser({
    username: "grace",
    password: "grace-password-1",
    permissions: ["jobs:read"],
  });
  assert.equal(user.username, "grace");
  const page = await session.listUsers({ limit: 100 });
  assert.ok(page.users.some((u) => u.id === user.id));
  assert.deepEqual((await session.updatePermissions(user.id, ["jobs:read", "files:write"])).permissions, [
    "jobs:read",
    "files:write",
  ]);
  await session.deleteUser(user.id);
  await assert.rejects(session.admin().getUser(user.id), { code: "user_not_found" });
});
