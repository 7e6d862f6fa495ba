import assert from "node:assert/strict";
import { test } from "node:test";
import type { CliContext } from "../cli-context.ts";
import { parseEnv } from "../env.ts";
import { parseDays } from "../option-parsers.ts";
import { serverOptions } from "./server.ts";

const ctx = (env: Record<string, string>): CliContext => ({
  env: parseEnv(env),
  stdout: () => {},
  stderr: () => {},
  exitCode: 0,
});

test("--retention-days wins over GANTRY_RETENTION_DAYS; unset leaves the server's default", () => {
  assert.equal(serverOptions({ retentionDays: 2 }, ctx({ GANTRY_RETENTION_DAYS: "30" })).retentionDays, 2);
  assert.equal(serverOptions({}, ctx({ GANTRY_RETENTION_DAYS: "0.5" })).retentionDays, 0.5);
  assert.equal(serverOptions({}, ctx({})).retentionDays, undefined);
  assert.equal(parseDays("0"), 0);
  assert.throws(() => parseDays("-1"));
  assert.throws(() => parseDays("soon"));
  assert.throws(() => parseEnv({ GANTRY_RETENTION_DAYS: "-3" }));
  const audit = serverOptions({ auditRetentionDays: 30 }, ctx({ GANTRY_AUDIT_RETENTION_DAYS: "365" }));
  assert.equal(audit.auditRetentionDays, 30);
  assert.equal(serverOptions({}, ctx({ GANTRY_AUDIT_RETENTION_DAYS: "0" })).auditRetentionDays, 0);
  assert.equal(serverOptions({}, ctx({})).auditRetentionDays, undefined);
});

test("--db wins over GANTRY_DB; GANTRY_DB must be a postgres:// URL; --blob-dir over GANTRY_BLOB_DIR", () => {
  const env = { GANTRY_DB: "postgres://u@h/db", GANTRY_BLOB_DIR: "/env/blobs" };
  assert.equal(serverOptions({ db: "postgres://x@y/z" }, ctx(env)).db, "postgres://x@y/z");
  assert.equal(serverOptions({}, ctx(env)).db, "postgres://u@h/db");
  assert.equal(serverOptions({}, ctx({})).db, undefined);
  assert.equal(serverOptions({ blobDir: "/flag" }, ctx(env)).blobDir, "/flag");
  assert.equal(serverOptions({}, ctx(env)).blobDir, "/env/blobs");
  assert.throws(() => parseEnv({ GANTRY_DB: "mysql://nope" }), /postgres/);
});

test("--tls-cert/--tls-key, --cors-origin and --rate-limit become server options; half a TLS pair is a usage error", () => {
  const o = serverOptions(
    { tlsCert: "c.pem", tlsKey: "k.pem", corsOrigin: ["https://a.example"], rateLimit: 100 },
    ctx({}),
  );
  assert.ok(o.tls?.certFile.endsWith("c.pem"));
  assert.equal(o.tls?.requireClientCert, false);
  assert.deepEqual(o.corsOrigins, ["https://a.example"]);
  assert.deepEqual(o.rateLimit, { max: 100, timeWindowMs: 60_000 });
  assert.equal(serverOptions({ rateLimit: 0 }, ctx({})).rateLimit, null);
  assert.equal(serverOptions({}, ctx({})).tls, undefined);
  assert.throws(() => serverOptions({ tlsCert: "c.pem" }, ctx({})), /go together/);
  assert.throws(() => serverOptions({ agentMtls: true }, ctx({})), /--agent-mtls needs/);
  assert.equal(serverOptions({ tlsCert: "c", tlsKey: "k", agentMtls: true }, ctx({})).agentMtls, true);
  assert.throws(
    () => serverOptions({ tlsCert: "c", tlsKey: "k", requireClientCert: true }, ctx({})),
    /needs --tls-client-ca/,
  );
});
