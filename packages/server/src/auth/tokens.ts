import { jwtVerify, SignJWT } from "jose";
import type { ServerKeys } from "./server-keys.ts";

const ISSUER = "gantry";
export const AGENT_AUDIENCE = "gantry-agent";
export const USER_AUDIENCE = "gantry-user";

export interface TokenClaims {
  sub: string;
  aud: string;
  scopes: string[];
  exp: number;
}

/** Signs and verifies the server's short-lived ES256 JWTs (agents and users). */
export class Tokens {
  readonly #keys: ServerKeys;
  readonly ttlSecs: number;

  constructor(keys: ServerKeys, ttlSecs: number) {
    this.#keys = keys;
    this.ttlSecs = ttlSecs;
  }

  sign(subject: string, audience: string, scopes: string[]): Promise<string> {
    return this.signUntil(subject, audience, scopes, this.expiry());
  }

  /** The `exp` (Unix seconds) a token signed now gets; agents are told it as `expiresIn`. */
  expiry(): number {
    return Math.floor(Date.now() / 1000) + this.ttlSecs;
  }

  signUntil(subject: string, audience: string, scopes: string[], exp: number): Promise<string> {
    return new SignJWT({ scopes })
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(this.#keys.jwtPrivate);
  }

  /** Returns the claims, or undefined for any invalid, expired or foreign token. */
  async verify(token: string, audience: string): Promise<TokenClaims | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#keys.jwtPublic, { issuer: ISSUER, audience });
      if (typeof payload.sub !== "string" || typeof payload.exp !== "number") return undefined;
      const scopes = Array.isArray(payload.scopes) ? (payload.scopes as string[]) : [];
      return { sub: payload.sub, aud: audience, scopes, exp: payload.exp };
    } catch {
      return undefined;
    }
  }
}
