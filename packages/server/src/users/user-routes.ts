import {
  CreateUserRequest,
  ErrorEnvelope,
  GantryError,
  ListUsersResponse,
  PageQuery,
  UpdateUserRequest,
  User,
  UserParams,
} from "@gantry/protocol";
import { hash } from "@node-rs/argon2";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { ulid } from "ulid";
import { z } from "zod";
import { audit } from "../audit/audit-log.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import { accountBodyLimit } from "../http/account-body-limit.ts";
import type { UserRecord } from "../store/store.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope };

export function userView(u: UserRecord): User {
  return {
    id: u.id,
    username: u.username,
    isAdmin: u.scopes.includes("admin"),
    permissions: u.scopes,
    active: u.active,
    mustChangePassword: u.mustChangePassword,
    createdAt: new Date(u.createdAt).toISOString(),
  };
}

/** Admin user management at `/v1/users` (seed 001's cl-admin). Every change is audited. */
export const userRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.addHook("onRoute", accountBodyLimit);
  const admin = requireScope(ctx.principals, "admin");

  app.get(
    "/v1/users",
    {
      preHandler: admin,
      schema: { summary: "List users", querystring: PageQuery, response: { 200: ListUsersResponse, ...errors } },
    },
    async (request) => {
      const { limit, after } = request.query;
      const rows = await ctx.store.listUsers({ after: after ?? null, limit });
      return { users: rows.map(userView), next: rows.length === limit ? (rows.at(-1)?.id ?? null) : null };
    },
  );

  app.post(
    "/v1/users",
    {
      preHandler: admin,
      schema: { summary: "Create a user", body: CreateUserRequest, response: { 201: User, ...errors } },
    },
    async (request, reply) => {
      const { username, password, permissions, active } = request.body;
      if (await ctx.store.findUserByName(username)) throw new GantryError("user_exists");
      const user: UserRecord = {
        id: `usr_${ulid()}`,
        username,
        passwordHash: await hash(password),
        scopes: [...new Set(permissions)],
        active,
        mustChangePassword: false,
        createdAt: Date.now(),
      };
      try {
        await ctx.store.insertUser(user);
      } catch (err) {
        // Two creates of one name at once: the unique index decides.
        if (/UNIQUE|unique/.test(String(err))) throw new GantryError("user_exists");
        throw err;
      }
      await audit(ctx.store, {
        actor: principalOf(request).id,
        action: "user.create",
        target: user.id,
        details: { username, permissions: user.scopes, active },
      });
      return reply.code(201).send(userView(user));
    },
  );

  app.get(
    "/v1/users/:id",
    { preHandler: admin, schema: { summary: "Get a user", params: UserParams, response: { 200: User, ...errors } } },
    async (request) => {
      const user = await ctx.store.getUser(request.params.id);
      if (!user) throw new GantryError("user_not_found");
      return userView(user);
    },
  );

  app.patch(
    "/v1/users/:id",
    {
      preHandler: admin,
      schema: {
        summary: "Update a user",
        params: UserParams,
        body: UpdateUserRequest,
        response: { 200: User, ...errors },
      },
    },
    async (request) => {
      const actor = principalOf(request);
      const { password, permissions, active } = request.body;
      if (actor.id === request.params.id && (active === false || (permissions && !permissions.includes("admin")))) {
        throw new GantryError("user_self_lockout");
      }
      const user = await ctx.store.updateUser(
        request.params.id,
        {
          ...(password !== undefined ? { passwordHash: await hash(password), mustChangePassword: true } : {}),
          ...(permissions !== undefined ? { scopes: [...new Set(permissions)] } : {}),
          ...(active !== undefined ? { active } : {}),
        },
        Date.now(),
      );
      if (!user) throw new GantryError("user_not_found");
      ctx.principals.forgetSessions();
      ctx.bus.publish({ kind: "user:changed", userId: user.id });
      await audit(ctx.store, {
        actor: actor.id,
        action: "user.update",
        target: user.id,
        details: {
          passwordReset: password !== undefined,
          ...(permissions ? { permissions } : {}),
          ...(active !== undefined ? { active } : {}),
        },
      });
      return userView(user);
    },
  );

  app.delete(
    "/v1/users/:id",
    {
      preHandler: admin,
      schema: {
        summary: "Delete a user (ends its sessions)",
        params: UserParams,
        response: { 204: z.null().describe("No content"), ...errors },
      },
    },
    async (request, reply) => {
      const actor = principalOf(request);
      if (actor.id === request.params.id) throw new GantryError("user_self_lockout");
      if (!(await ctx.store.deleteUser(request.params.id, Date.now()))) throw new GantryError("user_not_found");
      ctx.principals.forgetSessions();
      ctx.bus.publish({ kind: "user:changed", userId: request.params.id });
      await audit(ctx.store, { actor: actor.id, action: "user.delete", target: request.params.id });
      return reply.code(204).send(null);
    },
  );
};
