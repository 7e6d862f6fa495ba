import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { webcrypto } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import https from "node:https";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type GantryServer, startServer } from "@gantry/server";
import * as x509 from "@peculiar/x509";
import { GANTRY, runGantry } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * Seed 004 as a user runs it: `gantry agent init --server https://…` makes the agent's key and
 * certificate request under the config dir; the first `gantry agent` run enrols with that request,
 * and the server (`--agent-mtls`) signs it; the certificate lands in `certs/agent.pem` beside
 * `certs/ca.pem`, and the agent works over mTLS with it.
 */
x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const dir = tempDir();
const f = (n: string) => join(dir.path, n);
let server: GantryServer;
let child: ChildProcess | undefined;

before(async () => {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
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
    ],
    { stdio: "pipe" },
  );
  server = await startServer({
    port: 0,
    dataDir: f("data"),
    logLevel: "warn",
    heartbeatIntervalSecs: 0.5,
    tls: { certFile: f("server.pem"), keyFile: f("server.key") },
    agentMtls: true,
  });
});
after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await server.close();
  dir.remove();
});

function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${server.bootstrap.clientKey}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const req = https.request(`${server.url}${path}`, { method, headers, ca: readFileSync(f("server.pem")) }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.once("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test("gantry agent init makes the key and request; the first run gets them signed and runs a job over mTLS", async () => {
  const config = f("home/agent.json");
  const certs = (n: string) => f(`home/certs/${n}`);
  const init = await runGantry(
    [
      "agent",
      "init",
      "--server",
      server.url,
      "--key",
      server.bootstrap.agentKey,
      "--config",
      config,
      "--ca",
      f("server.pem"),
    ],
    { HOME: f("home") },
  );
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /certificate request/);
  assert.equal(statSync(certs("agent-key.pem")).mode & 0o777, 0o600, "the key is the user's alone");
  const request = new x509.Pkcs10CertificateRequest(readFileSync(certs("agent.csr"), "utf8"));
  assert.ok(await request.verify());
  assert.equal(existsSync(certs("agent.pem")), false, "no certificate before enrolment");
  const keyBefore = readFileSync(certs("agent-key.pem"), "utf8");
  // Running init again keeps the key (and the request) it made.
  const again = await runGantry(
    [
      "agent",
      "init",
      "--server",
      server.url,
      "--key",
      server.bootstrap.agentKey,
      "--config",
      config,
      "--ca",
      f("server.pem"),
    ],
    { HOME: f("home") },
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(certs("agent-key.pem"), "utf8"), keyBefore);

  child = spawn(
    process.execPath,
    [GANTRY, "agent", "--config", config, "--caps", "debug.echo", "--log-level", "warn"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "", HOME: f("home") },
    },
  );
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise((r) => child!.once("exit", r));
  for (let i = 0; i < 600 && !out.includes("agent is ready"); i++) {
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  assert.match(out, /agent is ready/, out);

  const cert = new x509.X509Certificate(readFileSync(certs("agent.pem"), "utf8"));
  const agentId = JSON.parse(readFileSync(config, "utf8")).agentId as string;
  assert.equal(cert.subject, `CN=${agentId}`);
  assert.deepEqual(
    Buffer.from(cert.publicKey.rawData),
    Buffer.from(request.publicKey.rawData),
    "the certificate is for the key init made",
  );
  assert.equal(readFileSync(certs("agent-key.pem"), "utf8"), keyBefore);
  assert.equal(statSync(certs("agent-key.pem")).mode & 0o777, 0o600);
  assert.equal(readFileSync(certs("ca.pem"), "utf8"), readFileSync(f("data/agent-ca/ca.pem"), "utf8"));
  assert.equal(existsSync(certs("agent.csr")), false, "the answered request is gone");
  const saved = JSON.parse(readFileSync(config, "utf8"));
  assert.equal(saved.tls.certFile, certs("agent.pem"));
  assert.equal(saved.tls.keyFile, certs("agent-key.pem"));

  const submit = await call("POST", "/v1/jobs", { capability: "debug.echo", payload: { echo: "init over mTLS" } });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  let job = submit.body;
  for (let i = 0; i < 600 && !["completed", "failed"].includes(job.status); i++) {
    await sleep(50);
    job = (await call("GET", `/v1/jobs/${job.id}`)).body;
  }
  assert.equal(job.status, "completed", JSON.stringify(job));
  child.kill("SIGTERM");
  await exited;
});
