import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { writeFileAtomic } from "../util/atomic-write.ts";

/** The server's signing keys: ES256 for JWTs, Ed25519 for agent commands (pinned by agents). */
export interface ServerKeys {
  jwtPrivate: CryptoKey;
  jwtPublic: CryptoKey;
  commandPrivate: CryptoKey;
  /** Raw Ed25519 public key, base64url: what agents pin at registration. */
  commandPublicRaw: string;
}

interface KeyFile {
  jwt: { private: JWK; public: JWK };
  command: { private: JWK; public: JWK };
}

/** Loads `<dataDir>/keys.json` (mode 0600), creating it on first start. */
export async function loadServerKeys(dataDir: string): Promise<ServerKeys> {
  const path = join(dataDir, "keys.json");
  let file: KeyFile;
  if (existsSync(path)) {
    file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
  } else {
    const jwt = await generateKeyPair("ES256", { extractable: true });
    const command = await generateKeyPair("Ed25519", { extractable: true });
    file = {
      jwt: { private: await exportJWK(jwt.privateKey), public: await exportJWK(jwt.publicKey) },
      command: { private: await exportJWK(command.privateKey), public: await exportJWK(command.publicKey) },
    };
    mkdirSync(dataDir, { recursive: true });
    // Atomic: a crash mid-write must not leave a torn keys.json that fails every later start.
    writeFileAtomic(path, JSON.stringify(file));
  }
  return {
    jwtPrivate: (await importJWK(file.jwt.private, "ES256")) as CryptoKey,
    jwtPublic: (await importJWK(file.jwt.public, "ES256")) as CryptoKey,
    commandPrivate: (await importJWK(file.command.private, "EdDSA")) as CryptoKey,
    commandPublicRaw: file.command.public.x ?? "",
  };
}
