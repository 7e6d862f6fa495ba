import { type CreateApiKeyRequest, GantryError } from "@gantry/protocol";
import { hasScope, isAdmin, type Principal } from "../auth/principals.ts";

/** Is pattern `p` within pattern `q` (`llm.mistral` and `llm.x*` are within `llm.*`)? */
function within(p: string, q: string): boolean {
  if (!q.endsWith("*")) return p === q;
  return p.startsWith(q.slice(0, -1));
}

/**
 * What a caller may grant: never more than it holds. Client keys carry at most the caller's
 * permissions and capability patterns; enrolment keys need `agents:manage`; only admins pick another
 * owner. Throws auth_forbidden, naming what was too much.
 */
export function checkGrant(caller: Principal, req: CreateApiKeyRequest): void {
  if (isAdmin(caller)) return;
  if (req.owner !== undefined && req.owner !== caller.owner) {
    throw new GantryError("auth_forbidden", "Only admins create keys for another owner.");
  }
  if (req.kind === "enrolment") {
    if (!hasScope(caller, "agents:manage"))
      throw new GantryError("auth_forbidden", "Enrolment keys need the agents:manage permission.");
    return;
  }
  const extra = (req.scopes ?? []).filter((s) => !hasScope(caller, s));
  if (extra.length > 0) throw new GantryError("auth_forbidden", `You cannot grant what you lack: ${extra.join(", ")}.`);
  if (caller.capabilities !== null) {
    const caps = req.capabilities;
    if (!caps || caps.some((p) => !caller.capabilities?.some((q) => within(p, q)))) {
      throw new GantryError(
        "auth_forbidden",
        `This credential is limited to ${caller.capabilities.join(", ")}; the new key must be too.`,
      );
    }
  }
}
