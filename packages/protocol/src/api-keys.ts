import { z } from "zod";
import { Timestamp } from "./job.ts";
import { PERMISSIONS } from "./permissions.ts";

export const ApiKeyKind = z.enum(["client", "enrolment"]);

/** `llm.*`, `ocr.tesseract`, `*`: a capability base name, optionally ending in `*`. */
export const CapabilityPattern = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(\*|[a-z0-9][a-z0-9._-]*\*?)$/, "a capability base name, optionally ending in *");

/** A key as listings show it: never the secret, only its first characters. */
export const ApiKey = z.object({
  id: z.string(),
  kind: ApiKeyKind,
  name: z.string().nullable(),
  prefix: z.string(),
  owner: z.string(),
  scopes: z.array(z.string()),
  capabilities: z.array(z.string()).nullable(),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreateApiKeyRequest = z
  .strictObject({
    kind: ApiKeyKind.default("client"),
    name: z.string().min(1).max(200).optional(),
    /** Client keys: at most the creator's own permissions. */
    scopes: z.array(z.enum(PERMISSIONS)).max(PERMISSIONS.length).default(["jobs:read", "jobs:write"]),
    capabilities: z.array(CapabilityPattern).min(1).max(100).optional(),
    expiresInSecs: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 24 * 3600)
      .optional(),
    /** Enrolment keys only: how many agents it may enrol (1: single-use). */
    maxUses: z.number().int().min(1).max(1_000_000).optional(),
    /** Admins only: whom the key belongs to (default: the caller). */
    owner: z.string().min(1).max(100).optional(),
  })
  .refine((b) => b.maxUses === undefined || b.kind === "enrolment", "maxUses applies to enrolment keys only.");
export type CreateApiKeyRequest = z.input<typeof CreateApiKeyRequest>;

/** The create answer: the only time the secret is shown. */
export const CreateApiKeyResponse = ApiKey.extend({ key: z.string() });
export type CreateApiKeyResponse = z.infer<typeof CreateApiKeyResponse>;

export const ApiKeyParams = z.strictObject({ id: z.string().min(1).max(100) });
export const ListApiKeysResponse = z.object({ keys: z.array(ApiKey), next: z.string().nullable() });
export type ListApiKeysResponse = z.infer<typeof ListApiKeysResponse>;
