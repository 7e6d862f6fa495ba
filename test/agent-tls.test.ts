import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Agent, type AgentOptions, AgentStartError, readConfigFile, startAgent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { type GantryServer, startServer } from "@gantry/server";
import { tempDir } from "./helpers/temp-dir.ts";

/** TLS and mTLS end to end: a throwaway CA made with the openssl CLI, an HTTPS server, real agents. */

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by a CA the server does not know. */
  strangerCert: string;
  strangerKey: string;
}

function makePki(dir: string): Pki {
  const f = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  // A CA: self-signed, with the CA extensions given on the command line.
  const newCa = (name: string) =>
    openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      f(`${name}.key`),
      "-out",
      f(`${name}.crt`),
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
  const leaf = (name: string, signer: string, ext: string, serial: number) => {
    fs.writeFileSync(f(`${name}.ext`), ext);
    openssl("req", ...ec, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${name}`);
    openssl(
      "x509",
      "-req",
      "-in",
      f(`${name}.csr`),
      "-CA",
      f(`${signer}.crt`),
      "-CAkey",
      f(`${signer}.key`),
      "-set_serial",
      String(serial),
      "-days",
      "2",
      "-out",
      f(`${name}.crt`),
      "-extfile",
      f(`${name}.ext`),
    );
  };
  newCa("test-ca");
  newCa("stranger-ca");
  leaf("server", "test-ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", 2);
  leaf("client", "test-ca", "extendedKeyUsage=clientAuth\n", 3);
  leaf("stranger", "stranger-ca", "extendedKeyUsage=clientAuth\n", 4);
  return {
    ca: f("test-ca.crt"),
    serverCert: f("server.crt"),
    serverKey: f("server.key"),
    clientCert: f("client.crt"),
    clientKey: f("client.key"),
    strangerCert: f("stranger.crt"),
    strangerKey: f("stranger.key"),
  };
}

/** A JSON call over HTTPS with our CA and (for mTLS) the client certificate; global fetch cannot take them. */
function call<T>(
  server: GantryServer,
  pki: Pki,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      server.url + url,
      {
        method,
        ca: fs.readFileSync(pki.ca),
        cert: fs.readFileSync(pki.clientCert),
        key: fs.readFileSync(pki.clientKey),
        headers: {
          authorization: `Bearer ${server.bootstrap.clientKey}`,
          ...(data === undefined ? {} : { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function runEcho(server: GantryServer, pki: Pki, payload: unknown): Promise<Job> {
  const submitted = await call<Job>(server, pki, "POST", "/v1/jobs", { capability: "debug.echo", payload });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
  return waitFor(`job ${submitted.body.id} done`, async () => {
    const j = (await call<Job>(server, pki, "GET", `/v1/jobs/${submitted.body.id}`)).body;
    return ["completed", "failed", "cancelled"].includes(j.status) ? j : undefined;
  });
}

const quiet: AgentOptions = {
  logLevel: "silent",
  print: () => {},
  metrics: false,
  statusServer: false,
  reconnectBaseMs: 50,
  reconnectCapMs: 500,
  httpTries: 2,
};

describe("agent over TLS", () => {
  const dir = tempDir("gantry-agent-tls-");
  const agents: Agent[] = [];
  const servers: GantryServer[] = [];
  let pki: Pki;
  let mtls: GantryServer;

  const start = async (server: GantryServer, name: string, extra: AgentOptions): Promise<Agent> => {
    const agent = await startAgent({
      server: server.url,
      key: server.bootstrap.agentKey,
      configPath: path.join(dir.path, name, "agent.json"),
      ...quiet,
      ...extra,
    });
    agents.push(agent);
    await waitFor("agent connected", () => (agent.status().connection === "ready" ? true : undefined));
    return agent;
  };

  before(async () => {
    pki = makePki(dir.path);
    mtls = await startServer({
      port: 0,
      dataDir: path.join(dir.path, "server-mtls"),
      logLevel: "silent",
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caFile: pki.ca, requireClientCert: true },
    });
    servers.push(mtls);
  });
  after(async () => {
    for (const a of agents) await a.stop({ drainTimeoutMs: 0 }).catch(() => {});
    for (const s of servers) await s.close();
    dir.remove();
  });

  test("mTLS: the agent registers, connects over wss and completes a debug.echo job; a flagless rerun keeps TLS", async () => {
    assert.match(mtls.url, /^https:\/\//);
    const tls = { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey };
    const agent = await start(mtls, "mtls", { tls });
    assert.equal(agent.status().transport, "ws");
    const job = await runEcho(mtls, pki, { over: "wss" });
    assert.equal(job.status, "completed");
    assert.deepEqual(job.output, { over: "wss" });
    assert.equal(job.attempts.at(-1)?.agentId, agent.agentId);

    // The TLS files are saved (absolute paths) so the next start, or a service, needs no flags.
    const saved = readConfigFile(agent.configPath);
    assert.deepEqual(saved.tls, tls);
    await agent.stop();
    assert.equal(await agent.done, 0);
    const again = await startAgent({ configPath: agent.configPath, ...quiet });
    agents.push(again);
    assert.equal(again.agentId, agent.agentId);
    await waitFor("flagless agent connected", () => (again.status().connection === "ready" ? true : undefined));
    assert.equal((await runEcho(mtls, pki, "again")).output, "again");
    await again.stop();
  });

  test("mTLS: an agent without a client certificate is refused at start with a clear error", async () => {
    await assert.rejects(
      startAgent({
        server: mtls.url,
        key: mtls.bootstrap.agentKey,
        configPath: path.join(dir.path, "nocert", "agent.json"),
        ...quiet,
        tls: { caFile: pki.ca },
      }),
      (err: unknown) =>
        err instanceof AgentStartError &&
        err.exitCode === 1 &&
        /requires a client certificate/.test(err.message) &&
        /--tls-cert/.test(err.message),
    );
    await assert.rejects(
      startAgent({
        server: mtls.url,
        key: mtls.bootstrap.agentKey,
        configPath: path.join(dir.path, "stranger", "agent.json"),
        ...quiet,
        tls: { caFile: pki.ca, certFile: pki.strangerCert, keyFile: pki.strangerKey },
      }),
      (err: unknown) => err instanceof AgentStartError && /client certificate/.test(err.message),
    );
  });

  test("bad TLS settings are usage errors before any connection: cert without key, key not matching, missing file", async () => {
    const bad = async (tls: AgentOptions["tls"], pattern: RegExp) =>
      assert.rejects(
        startAgent({
          server: mtls.url,
          key: mtls.bootstrap.agentKey,
          configPath: path.join(dir.path, "bad", "agent.json"),
          ...quiet,
          tls,
        }),
        (err: unknown) => err instanceof AgentStartError && err.exitCode === 2 && pattern.test(err.message),
      );
    await bad({ caFile: pki.ca, certFile: pki.clientCert }, /needs both/);
    await bad({ caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.serverKey }, /unusable TLS files/);
    await bad({ caFile: path.join(dir.path, "missing.crt") }, /cannot read the CA file/);
  });

  test("insecure: without a CA the agent refuses the server's certificate, with --insecure it works (no mTLS)", async () => {
    const plain = await startServer({
      port: 0,
      dataDir: path.join(dir.path, "server-tls"),
      logLevel: "silent",
      tls: { certFile: pki.serverCert, keyFile: pki.serverKey },
    });
    servers.push(plain);
    await assert.rejects(
      startAgent({
        server: plain.url,
        key: plain.bootstrap.agentKey,
        configPath: path.join(dir.path, "untrusted", "agent.json"),
        ...quiet,
      }),
      (err: unknown) => err instanceof AgentStartError && /--ca FILE/.test(err.message),
    );
    const agent = await start(plain, "insecure", { tls: { insecure: true } });
    const job = await runEcho(plain, pki, { insecure: true });
    assert.equal(job.status, "completed");
    assert.deepEqual(job.output, { insecure: true });
    await agent.stop();
    assert.equal(await agent.done, 0);
  });
});
