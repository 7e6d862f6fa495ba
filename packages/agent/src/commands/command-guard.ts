import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CommandBody, CommandBody as CommandBodySchema } from "@gantry/protocol";

/** How far the server's clock may run ahead of ours. */
const CLOCK_SKEW_MS = 60_000;

export type Verdict = { ok: true; command: CommandBody } | { ok: false; commandId: string; reason: string };

/**
 * Checks server commands before anything runs: an EdDSA signature by the key pinned at registration,
 * addressed to this agent, not expired, not issued in the future, and never seen before. Seen ids are
 * kept on disk until they expire, so a restart does not reopen the replay window.
 */
export class CommandGuard {
  readonly #pinnedKey: string;
  readonly #agentId: string;
  readonly #file: string;
  readonly #seen: Map<string, number>;
  #key: CryptoKey | Uint8Array | undefined;

  constructor(opts: { commandKey: string; agentId: string; dataDir: string }) {
    this.#pinnedKey = opts.commandKey;
    this.#agentId = opts.agentId;
    this.#file = join(opts.dataDir, "seen-commands.json");
    this.#seen = new Map(existsSync(this.#file) ? Object.entries(JSON.parse(readFileSync(this.#file, "utf8"))) : []);
  }

  async verify(jws: string, now = Date.now()): Promise<Verdict> {
    const unverifiedId = peekId(jws);
    const refuse = (reason: string): Verdict => ({ ok: false, commandId: unverifiedId, reason });
    if (!this.#pinnedKey) return refuse("no command key was pinned at registration");
    // jose on the first command only: an agent that is never sent one never holds it.
    const { compactVerify, decodeProtectedHeader, importJWK } = await import("jose");
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(jws);
    } catch {
      return refuse("unsigned or malformed command");
    }
    if (header.alg !== "EdDSA" && header.alg !== "Ed25519")
      return refuse(`unsigned command (alg ${String(header.alg)})`);
    let payload: Uint8Array;
    try {
      this.#key ??= await importJWK({ kty: "OKP", crv: "Ed25519", x: this.#pinnedKey }, "EdDSA");
      ({ payload } = await compactVerify(jws, this.#key, { algorithms: ["EdDSA", "Ed25519"] }));
    } catch {
      return refuse("bad signature: the command was tampered with or not signed by the pinned server key");
    }
    const parsed = CommandBodySchema.safeParse(JSON.parse(new TextDecoder().decode(payload)));
    if (!parsed.success) return refuse("the signed command has an unknown shape");
    const c = parsed.data;
    const by = (reason: string): Verdict => ({ ok: false, commandId: c.id, reason });
    if (c.agentId !== this.#agentId) return by(`addressed to agent ${c.agentId}, not this one`);
    if (c.expiresAt <= now) return by(`expired at ${new Date(c.expiresAt).toISOString()}`);
    if (c.issuedAt > now + CLOCK_SKEW_MS) return by("issued in the future");
    this.#prune(now);
    if (this.#seen.has(c.id)) return by("replayed: this command id was already received");
    this.#seen.set(c.id, c.expiresAt);
    this.#save();
    return { ok: true, command: c };
  }

  #prune(now: number): void {
    for (const [id, expiresAt] of this.#seen) if (expiresAt <= now) this.#seen.delete(id);
  }

  #save(): void {
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.#seen)), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}

/** The id an unverified command claims, for the refusal report (never trusted for anything else). */
function peekId(jws: string): string {
  try {
    const body = JSON.parse(Buffer.from(jws.split(".")[1] ?? "", "base64url").toString()) as { id?: unknown };
    return typeof body.id === "string" ? body.id.slice(0, 100) : "unknown";
  } catch {
    return "unknown";
  }
}
