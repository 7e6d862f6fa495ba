import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { GantryServer } from "@gantry/server";
import { deployment, postgresReachable, startReplicas } from "./helpers/replicas.ts";

/**
 * Agent certificates with replicas on one PostgreSQL (sharing the data dir, hence the agent CA): an
 * agent revoked through replica B can use its certificate on replica A neither over a connection it
 * already holds there nor over a new one.
 */
const reachable = await postgresReachable();
const d = deployment();
const f = (n: string) => join(d.dataDir, n);
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: d.dataDir, stdio: "pipe" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
let a: GantryServer;
let b: GantryServer;

function request(
  server: GantryServer,
  method: string,
  path: string,
  opts: { cert?: string; key?: string; token?: string; body?: unknown; agent?: https.Agent } = {},
): Promise<{ status: number; body: any; reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const req = https.request(
      `${server.url}${path}`,
      { method, headers, rejectUnauthorized: false, cert: opts.cert, key: opts.key, agent: opts.agent },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? JSON.parse(text) : null,
            reusedSocket: req.reusedSocket,
          }),
        );
      },
    );
    req.once("error", reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

before(async () => {
  if (!reachable) return;
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    f("server.key"),
    "-out",
    f("server.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
  );
  [a, b] = (await startReplicas(d, 2, {
    logLevel: "warn",
    tls: { certFile: f("server.pem"), keyFile: f("server.key") },
    agentMtls: true,
  })) as [GantryServer, GantryServer];
});
after(async () => {
  if (!reachable) return;
  await a?.close();
  await b?.close();
  await d.drop();
});

test("an agent revoked on replica B: its certificate is refused on replica A, open connection included", {
  skip: !reachable,
}, async () => {
  openssl("req", ...EC, "-keyout", f("x.key"), "-out", f("x.csr"), "-subj", "/CN=x");
  const reg = await request(a, "POST", "/agent/register", {
    body: { apiKey: a.bootstrap.agentKey, csr: readFileSync(f("x.csr"), "utf8") },
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const xCert = { cert: reg.body.certificate as string, key: readFileSync(f("x.key"), "utf8") };
  const held = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const authed = await request(a, "POST", "/agent/auth", {
    ...xCert,
    agent: held,
    body: { agentId: reg.body.agentId, key: reg.body.key },
  });
  assert.equal(authed.status, 200, JSON.stringify(authed.body));

  const login = await request(b, "POST", "/v1/auth/login", {
    body: { username: "admin", password: a.bootstrap.adminPassword },
  });
  const revoked = await request(b, "POST", `/v1/agents/${reg.body.agentId}/revoke`, { token: login.body.accessToken });
  assert.equal(revoked.status, 200);

  // /healthz, not an agent route: what refuses it is the certificate, which A learns of over the bus
  // (after B's commit, so it may take a moment; the connection is checked once, at its handshake).
  const deadline = Date.now() + 30_000;
  let onHeld = await request(a, "GET", "/healthz", { ...xCert, agent: held });
  while (onHeld.status === 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    onHeld = await request(a, "GET", "/healthz", { ...xCert, agent: held });
  }
  assert.equal(onHeld.reusedSocket, true, "still the connection opened before the revocation");
  assert.equal(onHeld.status, 403);
  assert.equal(onHeld.body.error.code, "agent_revoked");
  held.destroy();
  const fresh = await request(a, "GET", "/healthz", { ...xCert, agent: new https.Agent({ keepAlive: false }) });
  assert.equal(fresh.status, 403);
  assert.equal(fresh.body.error.code, "agent_revoked");
});
