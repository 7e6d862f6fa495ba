import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { ulid } from "ulid";
import { generateSecret, hashSecret, keyPrefix } from "./auth/secrets.ts";
import type { Store } from "./store/store.ts";

export interface Bootstrap {
  adminUser: string;
  adminPassword: string;
  clientKey: string;
  agentKey: string;
}

/**
 * First start: create the admin user, a client API key and an agent enrolment key, and write them to
 * `<dataDir>/bootstrap.json` (mode 0600), the only place their plain values ever exist.
 */
export async function ensureBootstrap(store: Store, dataDir: string): Promise<Bootstrap | undefined> {
  const path = bootstrapPath(dataDir);
  if ((await store.getMeta("bootstrapped")) !== undefined) {
    return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Bootstrap) : undefined;
  }
  const now = Date.now();
  const adminId = `usr_${ulid()}`;
  const boot: Bootstrap = {
    adminUser: "admin",
    adminPassword: randomBytes(18).toString("base64url"),
    clientKey: generateSecret("client"),
    agentKey: generateSecret("enrolment"),
  };
  await store.insertUser({
    id: adminId,
    username: boot.adminUser,
    passwordHash: await hash(boot.adminPassword),
    scopes: ["admin"],
    createdAt: now,
  });
  await store.insertApiKey({
    id: `key_${ulid()}`,
    kind: "client",
    prefix: keyPrefix(boot.clientKey),
    hash: hashSecret(boot.clientKey),
    owner: adminId,
    scopes: ["jobs:read", "jobs:write", "agents:read"],
    name: "bootstrap client key",
    createdAt: now,
    revokedAt: null,
  });
  await store.insertApiKey({
    id: `key_${ulid()}`,
    kind: "enrolment",
    prefix: keyPrefix(boot.agentKey),
    hash: hashSecret(boot.agentKey),
    owner: adminId,
    scopes: [],
    name: "bootstrap enrolment key",
    createdAt: now,
    revokedAt: null,
  });
  writeFileSync(path, `${JSON.stringify(boot, null, 2)}\n`, { mode: 0o600 });
  await store.setMeta("bootstrapped", new Date(now).toISOString());
  return boot;
}

export function bootstrapPath(dataDir: string): string {
  return join(dataDir, "bootstrap.json");
}
