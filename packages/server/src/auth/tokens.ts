import { calculateJwkThumbprint, exportJWK, type JWK, jwtVerify, SignJWT } from "jose";
import type { ServerKeys } from "./server-keys.ts";

const ISSUER = "gantry";
export const AGENT_AUDIENCE = "gantry-agent";
export const USER_AUDIENCE = "gantry-user";

export interface TokenClaims {
  sub: string;
  aud: string;
  scopes: string[];
  exp: number;
  /** User tokens: the login session (refresh-token family) they belong to; logout ends it. */
  sid?: string;
}

/** Signs and verifies the server's short-lived ES256 JWTs (agents and users). */
export class Tokens {
  readonly #keys: ServerKeys;
  readonly ttlSecs: number;

  constructor(keys: ServerKeys, ttlSecs: number) {
    this.#keys = keys;
    this.ttlSecs = ttlSecs;
  }

  sign(subject: string, audience: string, scopes: string[], sid?: string): Promise<string> {
    return this.signUntil(subject, audience, scopes, this.expiry(), sid);
  }

  /** The public signing key as a JWK Set, with a thumbprint `kid` (the one tokens name in their header). */
  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.#keys.jwtPublic);
    return { keys: [{ ...jwk, kid: await this.#kid(), alg: "ES256", use: "sig" }] };
  }

  #kidValue: string | undefined;
  async #kid(): Promise<string> {
    this.#kidValue ??= await calculateJwkThumbprint(await exportJWK(this.#keys.jwtPublic));
    return this.#kidValue;
  }

  /** The `exp` (Unix seconds) a token signed now gets; agents are told it as `expiresIn`. */
  expiry(): number {
    return Math.floor(Date.now() / 1000) + this.ttlSecs;
  }

  async signUntil(subject: string, audience: string, scopes: string[], exp: number, sid?: string): Promise<string> {
    return new SignJWT(sid === undefined ? { scopes } : { scopes, sid })
      .setProtectedHeader({ alg: "ES256", kid: await this.#kid() })
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
      const claims: TokenClaims = { sub: payload.sub, aud: audience, scopes, exp: payload.exp };
      if (typeof payload.sid === "string") claims.sid = payload.sid;
      return claims;
    } catch {
      return undefined;
    }
  }
}
