import { z } from "zod";
import { Timestamp } from "./job.ts";
import { PERMISSIONS } from "./permissions.ts";

export const Permission = z.enum(PERMISSIONS);
const Username = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, "letters, digits and . _ @ - (not first)");
/** At least 12 characters: argon2id slows guessing, length does the rest. */
const Password = z.string().min(12).max(1000);
const Permissions = z.array(Permission).max(PERMISSIONS.length);

/** A user as admins see it (`/v1/users`). */
export const User = z.object({
  id: z.string(),
  username: z.string(),
  isAdmin: z.boolean(),
  permissions: z.array(z.string()),
  active: z.boolean(),
  mustChangePassword: z.boolean(),
  createdAt: Timestamp,
});
export type User = z.infer<typeof User>;

export const CreateUserRequest = z.strictObject({
  username: Username,
  password: Password,
  permissions: Permissions.default([]),
  active: z.boolean().default(true),
});
export type CreateUserRequest = z.input<typeof CreateUserRequest>;

/** Each field optional; at least one. A new password or `active: false` ends the user's sessions. */
export const UpdateUserRequest = z
  .strictObject({ password: Password.optional(), permissions: Permissions.optional(), active: z.boolean().optional() })
  .refine((b) => Object.keys(b).length > 0, "Send at least one of password, permissions, active.");
export type UpdateUserRequest = z.input<typeof UpdateUserRequest>;

export const UserParams = z.strictObject({ id: z.string().min(1).max(100) });

/** Keyset paging shared by users, keys and audit: `after` is the previous page's `next`. */
export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  after: z.string().min(1).max(100).optional(),
});
export type PageQuery = z.input<typeof PageQuery>;

export const ListUsersResponse = z.object({ users: z.array(User), next: z.string().nullable() });
export type ListUsersResponse = z.infer<typeof ListUsersResponse>;

/** `POST /v1/auth/password`: the caller changes its own password (ends its other sessions). */
export const ChangePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1).max(1000),
  newPassword: Password,
});
