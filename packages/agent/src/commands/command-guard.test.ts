import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CompactSign, exportJWK, generateKeyPair } from "jose";
import { CommandGuard } from "./command-guard.ts";

const dir = mkdtempSync(join(tmpdir(), "gantry-guard-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const server = await generateKeyPair("Ed25519", { extractable: true });
const impostor = await generateKeyPair("Ed25519", { extractable: true });
const pinned = (await exportJWK(server.publicKey)).x!;
const agentId = "agent-1";

let n = 0;
async function sign(body: Record<string, unknown>, key: CryptoKey = server.privateKey): Promise<string> {
  const now = Date.now();
  const full = { type: "drain", id: `cmd_${++n}`, agentId, issuedAt: now, expiresAt: now + 60_000, ...body };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(full))).setProtectedHeader({ alg: "EdDSA" }).sign(key);
}

const guard = () => new CommandGuard({ commandKey: pinned, agentId, dataDir: dir });

test("a command signed by the pinned key, addressed here and fresh, is accepted", async () => {
  const v = await guard().verify(await sign({ type: "update", params: { capacity: 2 } }));
  assert.equal(v.ok, true);
  assert.deepEqual(v.ok && v.command.type === "update" && v.command.params, { capacity: 2 });
});

test("unsigned commands are refused", async () => {
  const body = Buffer.from(
    JSON.stringify({ type: "drain", id: "cmd_x", agentId, issuedAt: 0, expiresAt: 9e15 }),
  ).toString("base64url");
  const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${body}.`;
  const v = await guard().verify(none);
  assert.deepEqual([v.ok, !v.ok && v.commandId], [false, "cmd_x"]);
  assert.match(!v.ok ? v.reason : "", /unsigned/);
  assert.equal((await guard().verify("not a jws")).ok, false);
});

test("tampered commands and commands signed by another key are refused", async () => {
  const jws = await sign({ type: "drain" });
  const [h, p, s] = jws.split(".");
  const forged = JSON.parse(Buffer.from(p!, "base64url").toString());
  forged.type = "restart";
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${s}`;
  const v = await guard().verify(tampered);
  assert.match(!v.ok ? v.reason : "", /bad signature/);
  const foreign = await guard().verify(await sign({}, impostor.privateKey));
  assert.match(!foreign.ok ? foreign.reason : "", /bad signature/);
});

test("expired, future and misaddressed commands are refused", async () => {
  const now = Date.now();
  const expired = await guard().verify(await sign({ issuedAt: now - 10_000, expiresAt: now - 1 }));
  assert.match(!expired.ok ? expired.reason : "", /expired/);
  const future = await guard().verify(await sign({ issuedAt: now + 3_600_000, expiresAt: now + 7_200_000 }));
  assert.match(!future.ok ? future.reason : "", /future/);
  const elsewhere = await guard().verify(await sign({ agentId: "agent-2" }));
  assert.match(!elsewhere.ok ? elsewhere.reason : "", /addressed to agent agent-2/);
});

test("replays are refused, also after a restart (seen ids are kept on disk until they expire)", async () => {
  const jws = await sign({ type: "diagnostics" });
  assert.equal((await guard().verify(jws)).ok, true);
  const again = await guard().verify(jws);
  assert.match(!again.ok ? again.reason : "", /replayed/);
});
