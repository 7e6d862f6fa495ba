import type { RouteOptions } from "fastify";

/**
 * Account routes (login, users, keys) carry a few short strings; 16 KiB is far above any honest body
 * and keeps argon2 and JSON parsing away from megabyte bodies (the server-wide limit is 1 MiB).
 */
export const ACCOUNT_BODY_LIMIT = 16 * 1024;

/** An onRoute hook for the account plugins: their routes take at most ACCOUNT_BODY_LIMIT. */
export function accountBodyLimit(route: RouteOptions): void {
  route.bodyLimit ??= ACCOUNT_BODY_LIMIT;
}
