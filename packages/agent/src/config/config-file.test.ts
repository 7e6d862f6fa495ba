import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { agentCertPaths } from "../lifecycle/agent-certificate.ts";
import { readConfigFile, writeConfigFile } from "./config-file.ts";
import { defaultDataDir, platformConfigPath, resolveConfigPath } from "./config-location.ts";
import { forgetIdentity, initAgentConfig, locateAgent } from "./locate-agent.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "gantry-config-"));

test("round trip: the seed's fields, mode 0600, seed fields first, unknown fields kept", () => {
  const file = path.join(tmp(), ".offload-client.json");
  const config = {
    tier: 8,
    server: "https://compute.example.com",
    apiKey: "gnt_a_x",
    agentId: "22550957-9deb-4c98-bbdc-2e7649684fe0",
    key: "7e17cecc",
    jwtToken: "eyJ…",
    tokenExpiresIn: 1755393572,
    fromSeedClient: true,
  };
  writeConfigFile(file, config);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readConfigFile(file), config);
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, "utf8"))).slice(0, 6), [
    "server",
    "apiKey",
    "agentId",
    "key",
    "jwtToken",
    "tokenExpiresIn",
  ]);
  assert.deepEqual(
    fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith(".tmp")),
    [],
    "no temp file left",
  );
});

test("a missing file is an empty config; a broken one names the file", () => {
  const dir = tmp();
  assert.deepEqual(readConfigFile(path.join(dir, "none.json")), {});
  fs.writeFileSync(path.join(dir, "bad.json"), "{");
  assert.throws(() => readConfigFile(path.join(dir, "bad.json")), /bad\.json is not valid JSON/);
});

test("platform config locations", () => {
  assert.equal(platformConfigPath({ HOME: "/home/u" }, "linux"), "/home/u/.config/gantry/agent.json");
  assert.equal(platformConfigPath({ HOME: "/home/u", XDG_CONFIG_HOME: "/x" }, "linux"), "/x/gantry/agent.json");
  assert.equal(
    platformConfigPath({ HOME: "/Users/u" }, "darwin"),
    "/Users/u/Library/Application Support/Gantry/agent.json",
  );
  assert.equal(
    platformConfigPath({ APPDATA: "C:\\Users\\u\\AppData\\Roaming" }, "win32"),
    "C:\\Users\\u\\AppData\\Roaming\\Gantry\\agent.json",
  );
  assert.equal(defaultDataDir("/w/.offload-client.json"), "/w/.offload-client.data");
});

test("flagless run: ./.offload-client.json first, else the `agent init` file", () => {
  const cwd = tmp();
  const home = tmp();
  const env = { HOME: home };
  assert.equal(resolveConfigPath(undefined, env, cwd), path.join(cwd, ".offload-client.json"));
  const { configPath } = initAgentConfig({ server: "http://127.0.0.1:1", key: "gnt_a_k", name: "gpu-1" }, env);
  assert.equal(configPath, path.join(home, ".config/gantry/agent.json"));
  assert.equal(resolveConfigPath(undefined, env, cwd), configPath);
  writeConfigFile(path.join(cwd, ".offload-client.json"), {});
  assert.equal(resolveConfigPath(undefined, env, cwd), path.join(cwd, ".offload-client.json"));
  assert.equal(locateAgent({ configPath }, env).dataDir, path.join(home, ".config/gantry/agent.data"));
});

test("init keeps the identity for the same server, drops it for another; unregister forgets it", () => {
  const home = tmp();
  const env = { HOME: home };
  const { configPath } = initAgentConfig({ server: "http://a", key: "k1" }, env);
  writeConfigFile(configPath, { ...readConfigFile(configPath), agentId: "id", key: "secret" });
  initAgentConfig({ server: "http://a", key: "k2", name: "n" }, env);
  assert.equal(readConfigFile(configPath).agentId, "id");
  initAgentConfig({ server: "http://b", key: "k2" }, env);
  assert.equal(readConfigFile(configPath).agentId, undefined);
  writeConfigFile(configPath, { ...readConfigFile(configPath), agentId: "id2", key: "s2" });
  assert.equal(forgetIdentity(configPath), true);
  const after = readConfigFile(configPath);
  assert.equal(after.agentId, undefined);
  assert.equal(after.server, "http://b");
  assert.equal(forgetIdentity(configPath), false);
});

test("init saves TLS settings with absolute paths, so a service started elsewhere keeps mTLS", () => {
  const home = tmp();
  const env = { HOME: home };
  const { configPath } = initAgentConfig(
    { server: "https://a", key: "k", tls: { caFile: "certs/ca.pem", certFile: "/abs/agent.pem", insecure: undefined } },
    env,
  );
  assert.deepEqual(readConfigFile(configPath).tls, {
    caFile: path.resolve("certs/ca.pem"),
    certFile: "/abs/agent.pem",
  });
});

test("init with a list of replicas keeps the identity while the lists share a URL (same cluster)", () => {
  const home = tmp();
  const env = { HOME: home };
  const { configPath } = initAgentConfig({ server: "http://a", key: "k1" }, env);
  writeConfigFile(configPath, { ...readConfigFile(configPath), agentId: "id", key: "secret" });
  initAgentConfig({ server: "http://a,http://b", key: "k1" }, env);
  assert.equal(readConfigFile(configPath).server, "http://a,http://b");
  assert.equal(readConfigFile(configPath).agentId, "id");
  initAgentConfig({ server: "http://c,http://d", key: "k1" }, env);
  assert.equal(readConfigFile(configPath).agentId, undefined);
});

test("init for another server drops the certificate the old server issued (certs/agent.pem), keeps one of the user's", () => {
  const home = tmp();
  const env = { HOME: home };
  const { configPath } = initAgentConfig({ server: "https://a", key: "k" }, env);
  const issued = agentCertPaths(configPath);
  writeConfigFile(configPath, {
    ...readConfigFile(configPath),
    tls: { certFile: issued.certFile, keyFile: issued.keyFile, caFile: "/ca.pem" },
  });
  initAgentConfig({ server: "https://a", key: "k" }, env);
  assert.equal(readConfigFile(configPath).tls?.certFile, issued.certFile, "same server: kept");
  initAgentConfig({ server: "https://b", key: "k" }, env);
  assert.deepEqual(readConfigFile(configPath).tls, { caFile: "/ca.pem" });
  writeConfigFile(configPath, {
    ...readConfigFile(configPath),
    tls: { certFile: "/mine.pem", keyFile: "/mine-key.pem" },
  });
  initAgentConfig({ server: "https://c", key: "k" }, env);
  assert.equal(readConfigFile(configPath).tls?.certFile, "/mine.pem", "a certificate the user configured stays");
});
