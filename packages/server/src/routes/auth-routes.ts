import { ErrorEnvelope, GantryError, LoginRequest, MeResponse, RefreshRequest, TokenResponse } from "@gantry/protocol";
import { verify } from "@node-rs/argon2";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import { generateSecret, hashSecret } from "../auth/secrets.ts";
import { USER_AUDIENCE } from "../auth/tokens.ts";
import type { GantryContext } from "../context.ts";

const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;
const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope };

/** User login: ES256 access JWT (short) plus a rotating, single-use refresh token. */
export const authRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const issue = async (userId: string, scopes: string[]) => {
    const refreshToken = generateSecret("refresh");
    await ctx.store.insertRefreshToken(hashSecret(refreshToken), userId, Date.now() + REFRESH_TTL_MS);
    return {
      accessToken: await ctx.tokens.sign(userId, USER_AUDIENCE, scopes),
      expiresIn: ctx.tokens.ttlSecs,
      refreshToken,
      tokenType: "Bearer" as const,
    };
  };

  app.post(
    "/v1/auth/login",
    { schema: { summary: "Log in", body: LoginRequest, response: { 200: TokenResponse, ...errors } } },
    async (request) => {
      const user = await ctx.store.findUserByName(request.body.username);
      const ok = user ? await verify(user.passwordHash, request.body.password).catch(() => false) : false;
      if (!user || !ok) throw new GantryError("auth_login_failed");
      return issue(user.id, user.scopes);
    },
  );

  app.post(
    "/v1/auth/refresh",
    {
      schema: { summary: "Rotate a refresh token", body: RefreshRequest, response: { 200: TokenResponse, ...errors } },
    },
    async (request) => {
      const userId = await ctx.store.consumeRefreshToken(hashSecret(request.body.refreshToken), Date.now());
      const user = userId ? await ctx.store.getUser(userId) : undefined;
      if (!user) throw new GantryError("auth_invalid", "The refresh token is unknown, used or expired; log in again.");
      return issue(user.id, user.scopes);
    },
  );

  app.get(
    "/v1/auth/me",
    {
      preHandler: requireScope(ctx.principals, "jobs:read"),
      schema: { summary: "Who am I", response: { 200: MeResponse, ...errors } },
    },
    async (request) => {
      const p = principalOf(request);
      return { principal: p.id, kind: p.kind, scopes: p.scopes };
    },
  );
};
