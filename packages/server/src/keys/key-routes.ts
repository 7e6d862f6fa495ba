import {
  type ApiKey,
  ApiKeyParams,
  CreateApiKeyRequest,
  CreateApiKeyResponse,
  ErrorEnvelope,
  GantryError,
  ListApiKeysResponse,
  PageQuery,
} from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { ulid } from "ulid";
import { audit } from "../audit/audit-log.ts";
import { isAdmin } from "../auth/principals.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import { generateSecret, hashSecret, keyPrefix } from "../auth/secrets.ts";
import type { GantryContext } from "../context.ts";
import { accountBodyLimit } from "../http/account-body-limit.ts";
import type { ApiKeyRecord } from "../store/store.ts";
import { checkGrant } from "./key-grants.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function keyView(k: ApiKeyRecord): ApiKey {
  return {
    id: k.id,
    kind: k.kind,
    name: k.name,
    prefix: k.prefix,
    owner: k.owner,
    scopes: k.scopes,
    capabilities: k.capabilities,
    createdAt: new Date(k.createdAt).toISOString(),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
    maxUses: k.maxUses,
    uses: k.uses,
  };
}

/**
 * API keys at `/v1/keys` (needs `keys:manage`): client keys and agent-enrolment keys, shown once,
 * stored as SHA-256 hashes. Non-admins see and revoke only their own keys (others' are 404).
 */
export const keyRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  app.addHook("onRoute", accountBodyLimit);
  const manage = requireScope(ctx.principals, "keys:manage");

  app.get(
    "/v1/keys",
    {
      preHandler: manage,
      schema: { summary: "List API keys", querystring: PageQuery, response: { 200: ListApiKeysResponse, ...errors } },
    },
    async (request) => {
      const p = principalOf(request);
      const { limit, after } = request.query;
      const rows = await ctx.store.listApiKeys(isAdmin(p) ? null : p.owner, { after: after ?? null, limit });
      return { keys: rows.map(keyView), next: rows.length === limit ? (rows.at(-1)?.id ?? null) : null };
    },
  );

  app.post(
    "/v1/keys",
    {
      preHandler: manage,
      schema: {
        summary: "Create an API key (the secret is shown once)",
        body: CreateApiKeyRequest,
        response: { 201: CreateApiKeyResponse, ...errors },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      const body = request.body;
      checkGrant(p, body);
      const secret = generateSecret(body.kind === "client" ? "client" : "enrolment");
      const now = Date.now();
      const key: ApiKeyRecord = {
        id: `key_${ulid()}`,
        kind: body.kind,
        prefix: keyPrefix(secret),
        hash: hashSecret(secret),
        owner: body.owner ?? p.owner,
        scopes: body.kind === "client" ? [...new Set(body.scopes)] : [],
        capabilities: body.capabilities ?? null,
        name: body.name ?? null,
        createdAt: now,
        expiresAt: body.expiresInSecs === undefined ? null : now + body.expiresInSecs * 1000,
        lastUsedAt: null,
        revokedAt: null,
        maxUses: body.maxUses ?? null,
        uses: 0,
      };
      await ctx.store.insertApiKey(key);
      await audit(ctx.store, {
        actor: p.id,
        action: "key.create",
        target: key.id,
        details: {
          kind: key.kind,
          prefix: key.prefix,
          owner: key.owner,
          scopes: key.scopes,
          capabilities: key.capabilities,
        },
      });
      return reply.code(201).send({ ...keyView(key), key: secret });
    },
  );

  app.get(
    "/v1/keys/:id",
    {
      preHandler: manage,
      schema: {
        summary: "Get an API key",
        params: ApiKeyParams,
        response: { 200: CreateApiKeyResponse.omit({ key: true }), ...errors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const key = await ctx.store.getApiKey(request.params.id);
      if (!key || (key.owner !== p.owner && !isAdmin(p))) throw new GantryError("key_not_found");
      return keyView(key);
    },
  );

  app.delete(
    "/v1/keys/:id",
    {
      preHandler: manage,
      schema: {
        summary: "Revoke an API key (at once on this server)",
        params: ApiKeyParams,
        response: { 200: CreateApiKeyResponse.omit({ key: true }), ...errors },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const found = await ctx.store.getApiKey(request.params.id);
      if (!found || (found.owner !== p.owner && !isAdmin(p))) throw new GantryError("key_not_found");
      const key = await ctx.store.revokeApiKey(found.id, Date.now());
      if (!key) throw new GantryError("key_not_found");
      ctx.principals.forgetKey(key.hash);
      ctx.bus.publish({ kind: "apikey:revoked", hash: key.hash, id: key.id });
      await audit(ctx.store, { actor: p.id, action: "key.revoke", target: key.id, details: { prefix: key.prefix } });
      return keyView(key);
    },
  );
};
