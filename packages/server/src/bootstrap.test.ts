import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { hashSecret } from "./auth/secrets.ts";
import { type Bootstrap, bootstrapPath, ensureBootstrap } from "./bootstrap.ts";
import { prepareDataDir } from "./data-dir.ts";
import { openSqliteStore } from "./store/sqlite/sqlite-store.ts";

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "gantry-boot-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("a first start that died after writing bootstrap.json and the admin user is completed by the next", async () => {
  const dir = fresh();
  const boot: Bootstrap = {
    adminUser: "admin",
    adminPassword: "pw-from-the-crashed-start",
    clientKey: "gnt_c_crashedstartclientkey000000000000",
    agentKey: "gnt_a_crashedstartagentkey0000000000000",
  };
  writeFileSync(bootstrapPath(dir), JSON.stringify(boot), { mode: 0o600 });
  let store = openSqliteStore(join(dir, "gantry.db"));
  await store.insertUser({
    id: "usr_1",
    username: "admin",
    passwordHash: "x",
    scopes: ["admin"],
    active: true,
    mustChangePassword: true,
    createdAt: 1,
  });
  await store.close();

  store = openSqliteStore(join(dir, "gantry.db"));
  assert.deepEqual(await ensureBootstrap(store, dir), boot);
  assert.equal((await store.findApiKeyByHash(hashSecret(boot.clientKey)))?.owner, "usr_1");
  assert.equal((await store.findApiKeyByHash(hashSecret(boot.agentKey)))?.kind, "enrolment");
  assert.ok(await store.getMeta("bootstrapped"));
  // And once more: nothing is inserted twice.
  assert.deepEqual(await ensureBootstrap(store, dir), boot);
  await store.close();
});

test("bootstrap.json is written whole with mode 0600, leaving no temp file", async () => {
  const dir = fresh();
  const store = openSqliteStore(join(dir, "gantry.db"));
  const boot = await ensureBootstrap(store, dir);
  await store.close();
  assert.ok(boot);
  assert.equal(statSync(bootstrapPath(dir)).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith(".tmp")),
    [],
  );
});

test("temp files left by a crashed atomic write are removed on start", () => {
  const dir = fresh();
  writeFileSync(join(dir, ".keys.json.4242.tmp"), '{"jwt":');
  prepareDataDir(dir);
  assert.equal(existsSync(join(dir, ".keys.json.4242.tmp")), false);
});
