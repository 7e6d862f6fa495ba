import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqliteStore } from "../store/sqlite/sqlite-store.ts";
import { LiveStreams } from "./live-streams.ts";
import { Principals } from "./principals.ts";
import { generateSecret, hashSecret, keyPrefix } from "./secrets.ts";
import { loadServerKeys } from "./server-keys.ts";
import { Tokens } from "./tokens.ts";

// LiveStreams against a real store: what ends a live connection, and the per-credential limit.
const dir = mkdtempSync(join(tmpdir(), "gantry-live-streams-"));
const store = openSqliteStore(join(dir, "gantry.db"));
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function addKey(expiresAt: number | null): Promise<{ secret: string; id: string }> {
  const secret = generateSecret("client");
  const id = `key_${hashSecret(secret).slice(0, 12)}`;
  await store.insertApiKey({
    id,
    kind: "client",
    prefix: keyPrefix(secret),
    hash: hashSecret(secret),
    owner: "usr_1",
    scopes: ["jobs:read"],
    name: null,
    capabilities: null,
    createdAt: Date.now(),
    expiresAt,
    lastUsedAt: null,
    revokedAt: null,
    maxUses: null,
    uses: 0,
  });
  return { secret, id };
}

const principals = async () => new Principals(store, new Tokens(await loadServerKeys(dir), 900));
/** onInvalid and a promise of it; LiveStreams' timers are unref'd, so this holds the loop open meanwhile. */
const ended = () => {
  const hold = setInterval(() => {}, 1000);
  let end!: () => void;
  const done = new Promise<void>((r) => {
    end = () => {
      clearInterval(hold);
      r();
    };
  });
  return { end, done };
};

test("a key's expiry ends a connection opened with endAtExpiry, even with the re-check an hour away", async () => {
  const p = await principals();
  const key = await addKey(Date.now() + 300);
  const principal = await p.fromBearer(key.secret);
  assert.equal(principal.expiresAt, (await store.getApiKey(key.id))?.expiresAt);
  const streams = new LiveStreams(p, { recheckMs: 3_600_000, maxPerCredential: 4 });
  const e = ended();
  const release = streams.open(principal, e.end, { endAtExpiry: true });
  await e.done;
  release();
});

test("without endAtExpiry, the periodic re-check ends an expired key's connection (watch sockets, SSE)", async () => {
  const p = await principals();
  const key = await addKey(Date.now() + 300);
  const streams = new LiveStreams(p, { recheckMs: 20, maxPerCredential: 4 });
  const e = ended();
  const release = streams.open(await p.fromBearer(key.secret), e.end);
  await e.done;
  release();
});

test("recheck(id) re-checks that principal's connections at once (a revocation heard on the bus)", async () => {
  const p = await principals();
  const key = await addKey(null);
  const other = await addKey(null);
  const streams = new LiveStreams(p, { recheckMs: 3_600_000, maxPerCredential: 4 });
  const e = ended();
  let otherEnded = false;
  const releases = [
    streams.open(await p.fromBearer(key.secret), e.end),
    streams.open(await p.fromBearer(other.secret), () => {
      otherEnded = true;
    }),
  ];
  await store.revokeApiKey(key.id, Date.now());
  streams.recheck(key.id);
  streams.recheck(other.id);
  await e.done;
  // The other key was re-checked too, and is still good: the check has answered by now.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(otherEnded, false);
  for (const r of releases) r();
});

test("at most maxPerCredential connections per credential; releasing one frees its place", async () => {
  const p = await principals();
  const key = await addKey(null);
  const principal = await p.fromBearer(key.secret);
  const streams = new LiveStreams(p, { recheckMs: 3_600_000, maxPerCredential: 2 });
  const a = streams.open(principal, () => {});
  const b = streams.open(principal, () => {});
  assert.throws(() => streams.open(principal, () => {}), { code: "rate_limited" });
  a();
  a(); // releasing twice frees one place only
  const c = streams.open(principal, () => {});
  assert.throws(() => streams.open(principal, () => {}), { code: "rate_limited" });
  b();
  c();
});
