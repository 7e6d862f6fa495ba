import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runGantry } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { FAST, sleep, type TestServer, testServer } from "./helpers/test-server.ts";

// Access tokens live 61 s: a second after login they are inside the CLI's 60-second refresh margin.
let t: TestServer;
const home = tempDir("gantry-login-");
const env = { HOME: home.path, XDG_CONFIG_HOME: join(home.path, "config") };
const file = join(home.path, "config", "gantry", "profiles.json");
const profiles = () => JSON.parse(readFileSync(file, "utf8")).profiles;

before(async () => {
  t = await testServer({ ...FAST, tokenTtlSecs: 61 });
});
after(async () => {
  await t.close();
  home.remove();
});

test("gantry login URL --key saves a 0600 profile; later commands need no flags; flags and env win over it", async () => {
  const bad = await runGantry(["login", t.server.url, "--key", "gnt_c_nope"], env);
  assert.equal(bad.code, 3, bad.stderr);
  const login = await runGantry(["login", `${t.server.url}/`, "--key", t.server.bootstrap.clientKey, "--json"], env);
  assert.equal(login.code, 0, login.stderr);
  assert.deepEqual(JSON.parse(login.stdout), {
    profile: "default",
    url: t.server.url,
    kind: "api_key",
    username: null,
    path: file,
  });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(home.path, "config", "gantry")).mode & 0o777, 0o700);
  assert.equal(profiles().default.apiKey, t.server.bootstrap.clientKey);

  const submitted = await runGantry(["job", "submit", "login.test", "--json"], env);
  assert.equal(submitted.code, 0, submitted.stderr);
  const listed = await runGantry(["job", "list", "--json"], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(JSON.parse(listed.stdout).jobs.some((j: { id: string }) => j.id === JSON.parse(submitted.stdout).id));

  // A flag beats the profile: a wrong --key is refused (3) rather than replaced by the saved key.
  assert.equal((await runGantry(["job", "list", "--key", "gnt_c_nope"], env)).code, 3);
  // The environment beats the profile too.
  assert.equal((await runGantry(["job", "list"], { ...env, GANTRY_API_KEY: "gnt_c_nope" })).code, 3);
  // The saved key is never sent to another URL: with GANTRY_URL elsewhere there is no credential (usage, 2).
  const elsewhere = await runGantry(["job", "list"], { ...env, GANTRY_URL: "http://127.0.0.1:9" });
  assert.equal(elsewhere.code, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /no credential/);

  const unknown = await runGantry(["job", "list", "--profile", "nope"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no profile "nope"/);
});

test("gantry login --username saves a session (no password) under --profile; commands refresh it at the 60 s edge and save the rotated token; logout revokes it", async () => {
  const login = await runGantry(
    ["login", t.server.url, "--username", t.server.bootstrap.adminUser, "--profile", "ops"],
    {
      ...env,
      GANTRY_PASSWORD: t.server.bootstrap.adminPassword,
    },
  );
  assert.equal(login.code, 0, login.stderr);
  const saved = profiles().ops;
  assert.equal(saved.username, t.server.bootstrap.adminUser);
  assert.ok(!readFileSync(file, "utf8").includes(t.server.bootstrap.adminPassword), "the password is not stored");
  assert.equal(statSync(file).mode & 0o777, 0o600);

  await sleep(1500); // under 60 s of the 61 s token left now
  const users = await runGantry(["admin", "users", "list", "--json"], { ...env, GANTRY_PROFILE: "ops" });
  assert.equal(users.code, 0, users.stderr);
  assert.ok(JSON.parse(users.stdout).users.some((u: { username: string }) => u.username === saved.username));
  const refreshed = profiles().ops;
  assert.notEqual(refreshed.session.refreshToken, saved.session.refreshToken, "the rotated refresh token was saved");
  assert.notEqual(refreshed.session.accessToken, saved.session.accessToken);

  const out = await runGantry(["logout", "--profile", "ops", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), { profile: "ops", removed: true, revoked: true, path: file });
  assert.equal(profiles().ops, undefined);
  assert.ok(profiles().default, "other profiles stay");
  const reuse = await fetch(`${t.server.url}/v1/auth/refresh`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refreshToken: refreshed.session.refreshToken }),
  });
  assert.equal(reuse.status, 401, "the session ended on the server");
  const again = await runGantry(["logout", "--profile", "ops"], env);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /no profile "ops"/);
});
