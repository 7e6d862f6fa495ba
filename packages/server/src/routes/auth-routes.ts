import {
  ChangePasswordRequest,
  ErrorEnvelope,
  GantryError,
  JwksResponse,
  LoginRequest,
  MeResponse,
  RefreshRequest,
  TokenResponse,
} from "@gantry/protocol";
import { hash, verify } from "@node-rs/argon2";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { ulid } from "ulid";
import { z } from "zod";
import { audit } from "../audit/audit-log.ts";
import { isAdmin } from "../auth/principals.ts";
import { principalOf, requireAuth } from "../auth/require-scope.ts";
import { generateSecret, hashSecret } from "../auth/secrets.ts";
import { USER_AUDIENCE } from "../auth/tokens.ts";
import type { GantryContext } from "../context.ts";
import { accountBodyLimit } from "../http/account-body-limit.ts";

const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;
/** Verified against when the user is unknown, so a wrong name costs as long as a wrong password. */
const DUMMY_HASH = hash("not-a-password-of-anyone");
const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope };

/**
 * User login: an ES256 access JWT (15 min) naming its session, plus a rotating, single-use refresh
 * token. A session is a refresh-token family: reusing a spent token revokes the family; logout, a
 * password change or deactivation revokes it too, and its access tokens stop working at once.
 */
export const authRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.addHook("onRoute", accountBodyLimit);
  const sign = async (userId: string, scopes: string[], sessionId: string, refreshToken: string) => ({
    accessToken: await ctx.tokens.sign(userId, USER_AUDIENCE, scopes, sessionId),
    expiresIn: ctx.tokens.ttlSecs,
    refreshToken,
    tokenType: "Bearer" as const,
  });
  const newSession = async (userId: string, scopes: string[]) => {
    const refreshToken = generateSecret("refresh");
    const sessionId = `ses_${ulid()}`;
    await ctx.store.insertRefreshToken(hashSecret(refreshToken), userId, sessionId, Date.now() + REFRESH_TTL_MS);
    return sign(userId, scopes, sessionId, refreshToken);
  };

  app.post(
    "/v1/auth/login",
    { schema: { summary: "Log in", body: LoginRequest, response: { 200: TokenResponse, ...errors } } },
    async (request) => {
      const { username, password } = request.body;
      const user = await ctx.store.findUserByName(username);
      const ok = await verify(user?.passwordHash ?? (await DUMMY_HASH), password).catch(() => false);
      if (!user || !ok || !user.active) {
        await audit(ctx.store, {
          actor: null,
          action: "auth.login_failed",
          target: username,
          details: { ip: request.ip, reason: !user ? "unknown user" : !ok ? "wrong password" : "inactive" },
        });
        throw new GantryError("auth_login_failed");
      }
      return { ...(await newSession(user.id, user.scopes)), mustChangePassword: user.mustChangePassword };
    },
  );

  app.post(
    "/v1/auth/refresh",
    {
      schema: { summary: "Rotate a refresh token", body: RefreshRequest, response: { 200: TokenResponse, ...errors } },
    },
    async (request) => {
      const next = generateSecret("refresh");
      const now = Date.now();
      const hashed = hashSecret(request.body.refreshToken);
      const out = await ctx.store.rotateRefreshToken(hashed, hashSecret(next), now, now + REFRESH_TTL_MS);
      if (out.kind === "reused") {
        ctx.principals.forgetSessions(out.familyId);
        await audit(ctx.store, { actor: out.userId, action: "auth.refresh_reused", target: out.familyId });
        throw new GantryError("auth_refresh_reused");
      }
      const user = out.kind === "rotated" ? await ctx.store.getUser(out.userId) : undefined;
      if (out.kind !== "rotated" || !user?.active) {
        throw new GantryError("auth_invalid", "The refresh token is unknown, revoked or expired; log in again.");
      }
      return sign(user.id, user.scopes, out.familyId, next);
    },
  );

  app.post(
    "/v1/auth/logout",
    {
      preHandler: requireAuth(ctx.principals),
      schema: {
        summary: "Log out (revoke this session)",
        response: { 204: z.null().describe("No content"), ...errors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId === null)
        throw new GantryError("auth_forbidden", "Only a user session can log out; revoke keys at /v1/keys.");
      await ctx.store.revokeRefreshFamily(p.sessionId, Date.now());
      ctx.principals.forgetSessions(p.sessionId);
      ctx.bus.publish({ kind: "user:changed", userId: p.id, sessionId: p.sessionId });
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/v1/auth/password",
    {
      preHandler: requireAuth(ctx.principals),
      schema: {
        summary: "Change your password (ends your sessions; log in again)",
        body: ChangePasswordRequest,
        response: { 204: z.null().describe("No content"), ...errors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const user = p.kind === "user" ? await ctx.store.getUser(p.id) : undefined;
      if (!user) throw new GantryError("auth_forbidden", "Only a logged-in user can change its password.");
      if (!(await verify(user.passwordHash, request.body.currentPassword).catch(() => false))) {
        await audit(ctx.store, {
          actor: user.id,
          action: "auth.login_failed",
          target: user.username,
          details: { reason: "wrong current password" },
        });
        throw new GantryError("auth_login_failed", "The current password is wrong.");
      }
      const passwordHash = await hash(request.body.newPassword);
      await ctx.store.updateUser(user.id, { passwordHash, mustChangePassword: false }, Date.now());
      ctx.principals.forgetSessions();
      ctx.bus.publish({ kind: "user:changed", userId: user.id });
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/v1/auth/me",
    {
      preHandler: requireAuth(ctx.principals),
      schema: { summary: "Who am I", response: { 200: MeResponse, ...errors } },
    },
    async (request) => {
      const p = principalOf(request);
      return {
        id: p.id,
        kind: p.kind,
        username: p.username,
        isAdmin: isAdmin(p),
        permissions: p.scopes,
        capabilities: p.capabilities,
      };
    },
  );

  app.get(
    "/v1/auth/jwks",
    { schema: { summary: "The public keys that verify access tokens", response: { 200: JwksResponse } } },
    () => ctx.tokens.jwks(),
  );
};
