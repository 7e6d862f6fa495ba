import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import { type GantryServer, startServer } from "@gantry/server";
import { tempDir } from "./helpers/temp-dir.ts";

/** `tls: {certFile, keyFile}` (gantry server --tls-cert/--tls-key): TLS 1.3 preferred, 1.2 the minimum. */
const dir = tempDir();
let server: GantryServer;
before(async () => {
  const f = (n: string) => join(dir.path, n);
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
      f("key.pem"),
      "-out",
      f("cert.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdio: "pipe" },
  );
  server = await startServer({
    port: 0,
    dataDir: f("data"),
    logLevel: "warn",
    tls: { certFile: f("cert.pem"), keyFile: f("key.pem") },
  });
});
after(async () => {
  await server.close();
  dir.remove();
});

function handshake(opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: server.port, rejectUnauthorized: false, ...opts }, () => {
      const version = socket.getProtocol() ?? "";
      socket.end();
      resolve(version);
    });
    socket.once("error", reject);
  });
}

test("a client that can speak TLS 1.3 gets TLS 1.3", async () => {
  assert.equal(await handshake({}), "TLSv1.3");
});

test("TLS 1.2 is still accepted", async () => {
  assert.equal(await handshake({ maxVersion: "TLSv1.2" }), "TLSv1.2");
});

test("TLS 1.1 and older are refused", async () => {
  await assert.rejects(handshake({ minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }));
});

test("the API answers over HTTPS", async () => {
  assert.match(server.url, /^https:/);
  const { request } = await import("node:https");
  const status = await new Promise<number>((resolve, reject) => {
    request(`${server.url}/healthz`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .once("error", reject)
      .end();
  });
  assert.equal(status, 200);
});
