import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hash } from "@node-rs/argon2";
import { ulid } from "ulid";
import { generateSecret, hashSecret, keyPrefix } from "./auth/secrets.ts";
import type { Store } from "./store/store.ts";
import { writeFileAtomic } from "./util/atomic-write.ts";

export interface Bootstrap {
  adminUser: string;
  adminPassword: string;
  clientKey: string;
  agentKey: string;
}

/**
 * First start: create the admin user, a client API key and an agent enrolment key, and write them to
 * `<dataDir>/bootstrap.json` (mode 0600), the only place their plain values ever exist.
 *
 * Crash-safe: bootstrap.json is written atomically FIRST, then each row is inserted unless it is
 * already there, then the `bootstrapped` mark is set. A start that died half-way is completed by the
 * next one with the same credentials (before, it failed for ever on the admin user's unique name).
 */
export async function ensureBootstrap(store: Store, dataDir: string): Promise<Bootstrap | undefined> {
  const path = bootstrapPath(dataDir);
  if ((await store.getMeta("bootstrapped")) !== undefined) {
    return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Bootstrap) : undefined;
  }
  let boot: Bootstrap;
  if (existsSync(path)) {
    boot = JSON.parse(readFileSync(path, "utf8")) as Bootstrap;
  } else {
    boot = {
      adminUser: "admin",
      adminPassword: randomBytes(18).toString("base64url"),
      clientKey: generateSecret("client"),
      agentKey: generateSecret("enrolment"),
    };
    writeFileAtomic(path, `${JSON.stringify(boot, null, 2)}\n`);
  }
  const now = Date.now();
  const admin = await store.findUserByName(boot.adminUser);
  const adminId = admin?.id ?? `usr_${ulid()}`;
  if (!admin) {
    await store.insertUser({
      id: adminId,
      username: boot.adminUser,
      passwordHash: await hash(boot.adminPassword),
      scopes: ["admin"],
      active: true,
      // The password sits in bootstrap.json; the first login is told to change it.
      mustChangePassword: true,
      createdAt: now,
    });
  }
  const keys = [
    {
      secret: boot.clientKey,
      kind: "client",
      scopes: ["jobs:read", "jobs:write", "agents:read", "files:write"],
      name: "client",
    },
    { secret: boot.agentKey, kind: "enrolment", scopes: [], name: "enrolment" },
  ] as const;
  for (const k of keys) {
    if (await store.findApiKeyByHash(hashSecret(k.secret))) continue;
    await store.insertApiKey({
      id: `key_${ulid()}`,
      kind: k.kind,
      prefix: keyPrefix(k.secret),
      hash: hashSecret(k.secret),
      owner: adminId,
      scopes: [...k.scopes],
      name: `bootstrap ${k.name} key`,
      capabilities: null,
      createdAt: now,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      maxUses: null,
      uses: 0,
    });
  }
  await store.setMeta("bootstrapped", new Date(now).toISOString());
  return boot;
}

export function bootstrapPath(dataDir: string): string {
  return join(dataDir, "bootstrap.json");
}
