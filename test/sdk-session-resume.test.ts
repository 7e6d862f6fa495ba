import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AuthError, SessionManager } from "@gantry/client";
import { FAST, type TestServer, testServer } from "./helpers/test-server.ts";

/** SessionManager.resume and onRefreshToken: how a browser app (the dashboard) survives a reload. */
let t: TestServer;
before(async () => {
  t = await testServer(FAST);
});
after(() => t.close());

test("a kept refresh token resumes the session once; the spent one is refused and forgotten", async () => {
  const kept: (string | undefined)[] = [];
  const first = new SessionManager({ url: t.server.url, onRefreshToken: (r) => kept.push(r) });
  await first.login(t.server.bootstrap.adminUser, t.server.bootstrap.adminPassword);
  const saved = kept.at(-1)!;
  assert.match(saved, /\S/);

  const told: (string | undefined)[] = [];
  const reloaded = new SessionManager({ url: t.server.url, onRefreshToken: (r) => told.push(r) });
  await reloaded.resume(saved);
  assert.equal(reloaded.isAuthenticated(), true);
  assert.equal(told.length, 1);
  assert.notEqual(told[0], saved, "refresh tokens rotate: the resumed session holds a new one");
  const me = await fetch(`${t.server.url}/v1/auth/me`, {
    headers: { authorization: `Bearer ${await reloaded.getValidToken()}` },
  });
  assert.equal((await me.json()).username, t.server.bootstrap.adminUser);

  const replay: (string | undefined)[] = [];
  const again = new SessionManager({ url: t.server.url, onRefreshToken: (r) => replay.push(r) });
  await assert.rejects(again.resume(saved), AuthError);
  assert.equal(again.isAuthenticated(), false);
  assert.deepEqual(replay, [undefined]);
});
