import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type GantryServer, startServer } from "@gantry/server";
import * as x509 from "@peculiar/x509";
import WebSocket from "ws";
import { tempDir } from "./helpers/temp-dir.ts";

/**
 * `agentMtls` (seed 004): the server's own agent CA signs each agent's CSR at enrolment, bound to the
 * agent id; every agent connection's certificate must be that agent's. Real TLS handshakes with
 * certificates made here: valid, none, another agent's, a stranger CA's, expired, revoked agent.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const dir = tempDir();
const f = (n: string) => join(dir.path, n);
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir.path, stdio: "pipe" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
let server: GantryServer;

interface Creds {
  id: string;
  key: string;
  cert: string;
  pkey: string;
}
const agents: Record<"x" | "y", Creds> = {} as never;

function request(
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

async function enrol(name: "x" | "y"): Promise<Creds> {
  openssl("req", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${name}`);
  const r = await request("POST", "/agent/register", {
    body: { apiKey: server.bootstrap.agentKey, csr: readFileSync(f(`${name}.csr`), "utf8") },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.certificate, /BEGIN CERTIFICATE/);
  assert.match(r.body.caCertificate, /BEGIN CERTIFICATE/);
  return {
    id: r.body.agentId,
    key: r.body.key,
    cert: r.body.certificate,
    pkey: readFileSync(f(`${name}.key`), "utf8"),
  };
}

before(async () => {
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
  server = await startServer({
    port: 0,
    dataDir: f("data"),
    logLevel: "warn",
    tls: { certFile: f("server.pem"), keyFile: f("server.key") },
    agentMtls: true,
  });
  agents.x = await enrol("x");
  agents.y = await enrol("y");
});
after(async () => {
  await server.close();
  dir.remove();
});

const auth = (a: Creds, cert?: { cert: string; key: string }) =>
  request("POST", "/agent/auth", { body: { agentId: a.id, key: a.key }, ...(cert ?? {}) });

test("the issued certificate names the agent and chains to the server's agent CA", () => {
  const cert = new x509.X509Certificate(agents.x.cert);
  assert.equal(cert.subject, `CN=${agents.x.id}`);
  const ca = new x509.X509Certificate(readFileSync(f("data/agent-ca/ca.pem"), "utf8"));
  assert.equal(cert.issuer, ca.subject);
});

test("an agent with its own certificate authenticates and uses agent routes", async () => {
  const x = agents.x;
  const r = await auth(x, { cert: x.cert, key: x.pkey });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const ping = await request("GET", "/private/agent/ping", { token: r.body.token, cert: x.cert, key: x.pkey });
  assert.equal(ping.status, 200);
});

test("no certificate, another agent's, or a stranger CA's: refused with agent_certificate_invalid", async () => {
  const x = agents.x;
  const y = agents.y;
  const none = await auth(x);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, "agent_certificate_invalid");
  assert.equal((await auth(x, { cert: y.cert, key: y.pkey })).body.error.code, "agent_certificate_invalid");
  // A token of X presented over Y's certificate.
  const token = (await auth(x, { cert: x.cert, key: x.pkey })).body.token;
  assert.equal((await request("GET", "/private/agent/ping", { token, cert: y.cert, key: y.pkey })).status, 401);
  // A stranger CA's certificate with X's id as its CN.
  openssl(
    "req",
    "-x509",
    ...EC,
    "-keyout",
    f("evil-ca.key"),
    "-out",
    f("evil-ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=evil",
  );
  openssl(
    "x509",
    "-req",
    "-in",
    f("x.csr"),
    "-CA",
    f("evil-ca.pem"),
    "-CAkey",
    f("evil-ca.key"),
    "-days",
    "2",
    "-subj",
    `/CN=${x.id}`,
    "-out",
    f("evil-x.pem"),
  );
  const evil = await auth(x, { cert: readFileSync(f("evil-x.pem"), "utf8"), key: x.pkey });
  assert.equal(evil.body.error.code, "agent_certificate_invalid");
  // The WebSocket takes the same check.
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${server.url.replace("https", "wss")}/v1/agent/ws`, {
      headers: { authorization: `Bearer ${token}` },
      rejectUnauthorized: false,
      cert: y.cert,
      key: y.pkey,
    });
    ws.once("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("error", () => {});
  });
  assert.equal(status, 401);
});

test("an expired certificate from the agent CA is refused", async () => {
  const x = agents.x;
  const caPem = readFileSync(f("data/agent-ca/ca.pem"), "utf8");
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(readFileSync(f("data/agent-ca/ca-key.pem"), "utf8")),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const csr = new x509.Pkcs10CertificateRequest(readFileSync(f("x.csr"), "utf8"));
  const expired = await x509.X509CertificateGenerator.create({
    serialNumber: "0badc0de",
    subject: `CN=${x.id}`,
    issuer: new x509.X509Certificate(caPem).subject,
    notBefore: new Date("2020-01-01T00:00:00Z"),
    notAfter: new Date("2020-01-02T00:00:00Z"),
    signingKey: caKey,
    publicKey: csr.publicKey,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
  });
  writeFileSync(f("expired.pem"), expired.toString("pem"));
  const r = await auth(x, { cert: expired.toString("pem"), key: x.pkey });
  assert.equal(r.body.error.code, "agent_certificate_invalid");
});

test("client routes need no certificate; a bad CSR is refused and spends no enrolment", async () => {
  const health = await request("GET", "/healthz");
  assert.equal(health.status, 200);
  const jobs = await request("GET", "/v1/jobs", { token: server.bootstrap.clientKey });
  assert.equal(jobs.status, 200);
  const bad = await request("POST", "/agent/register", {
    body: { apiKey: server.bootstrap.agentKey, csr: "not a csr" },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, "agent_csr_invalid");
});

test("revoking the agent revokes its certificate: every request over it is refused, on open connections too", async () => {
  const x = agents.x;
  const y = agents.y;
  const login = await request("POST", "/v1/auth/login", {
    body: { username: "admin", password: server.bootstrap.adminPassword },
  });
  // A connection X's certificate holds open across the revocation.
  const held = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const xCert = { cert: x.cert, key: x.pkey };
  assert.equal((await request("GET", "/healthz", { ...xCert, agent: held })).status, 200);
  const revoked = await request("POST", `/v1/agents/${x.id}/revoke`, { token: login.body.accessToken });
  assert.equal(revoked.status, 200);
  const onHeld = await request("GET", "/healthz", { ...xCert, agent: held });
  assert.equal(onHeld.reusedSocket, true, "the request went over the connection opened before the revocation");
  assert.equal(onHeld.status, 403);
  assert.equal(onHeld.body.error.code, "agent_revoked");
  held.destroy();
  // New connections presenting it: refused on every route, client routes included.
  const fresh = new https.Agent({ keepAlive: false });
  for (const path of ["/healthz", "/v1/jobs"]) {
    const r = await request("GET", path, { ...xCert, token: server.bootstrap.clientKey, agent: fresh });
    assert.equal(r.status, 403, path);
    assert.equal(r.body.error.code, "agent_revoked");
  }
  const r = await auth(x, xCert);
  assert.equal(r.body.error.code, "agent_revoked");
  // Another agent's certificate is unaffected.
  assert.equal((await request("GET", "/healthz", { cert: y.cert, key: y.pkey, agent: fresh })).status, 200);
  assert.equal((await auth(y, { cert: y.cert, key: y.pkey })).status, 200);
});

test("a real agent enrolling over https gets its certificate, stores it under certs/ and runs a job with it", async () => {
  const { startAgent, readConfigFile } = await import("@gantry/agent");
  const configPath = f("real/agent.json");
  const agent = await startAgent({
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath,
    tls: { caFile: f("server.pem") },
    logLevel: "silent",
    print: () => {},
    metrics: false,
    statusServer: false,
    capabilities: ["debug.echo"],
  });
  try {
    for (const file of ["agent.pem", "agent-key.pem", "ca.pem"]) {
      assert.ok(readFileSync(f(`real/certs/${file}`), "utf8").includes("BEGIN"), file);
    }
    const cert = new x509.X509Certificate(readFileSync(f("real/certs/agent.pem"), "utf8"));
    assert.equal(cert.subject, `CN=${agent.agentId}`);
    assert.equal(readConfigFile(configPath).tls?.certFile, f("real/certs/agent.pem"));
    const submit = await request("POST", "/v1/jobs", {
      token: server.bootstrap.clientKey,
      body: { capability: "debug.echo", payload: { echo: "over mTLS" } },
    });
    assert.equal(submit.status, 201, JSON.stringify(submit.body));
    let job = submit.body;
    for (let i = 0; i < 400 && !["completed", "failed"].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await request("GET", `/v1/jobs/${job.id}`, { token: server.bootstrap.clientKey })).body;
    }
    assert.equal(job.status, "completed", JSON.stringify(job));
  } finally {
    await agent.stop();
  }
});
