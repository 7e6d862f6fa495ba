import type { ApiKey, AuditEvent, User } from "@gantry/protocol";
import { table } from "./output.ts";

export function formatUsers(users: readonly User[]): string {
  if (users.length === 0) return "no users\n";
  return table([
    ["ID", "USERNAME", "ACTIVE", "PERMISSIONS"],
    ...users.map((u) => [u.id, u.username, u.active ? "yes" : "no", u.permissions.join(",") || "-"]),
  ]);
}

export function formatKeys(keys: readonly ApiKey[]): string {
  if (keys.length === 0) return "no keys\n";
  return table([
    ["ID", "KIND", "PREFIX", "OWNER", "SCOPES", "CAPABILITIES", "STATE", "LAST USED"],
    ...keys.map((k) => [
      k.id,
      k.kind,
      `${k.prefix}…`,
      k.owner,
      k.scopes.join(",") || "-",
      k.capabilities?.join(",") ?? "*",
      k.revokedAt ? "revoked" : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? "expired" : "active",
      k.lastUsedAt ?? "-",
    ]),
  ]);
}

export function formatAudit(events: readonly AuditEvent[]): string {
  if (events.length === 0) return "no events\n";
  return table([
    ["AT", "ACTOR", "ACTION", "TARGET"],
    ...events.map((e) => [e.at, e.actor ?? "-", e.action, e.target ?? "-"]),
  ]);
}
