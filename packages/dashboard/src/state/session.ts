import { AdminApi, errorFromResponse, type GantryClient, SessionManager } from "@gantry/client";
import { MeResponse } from "@gantry/protocol";
import { z } from "zod";

/** The refresh token is kept per tab (sessionStorage): a reload stays logged in, a closed tab does not. */
const STORAGE_KEY = "gantry.refreshToken";

/** One logged-in user: the SDK objects the pages use, and who the user is. */
export interface Session {
  readonly url: string;
  readonly manager: SessionManager;
  readonly client: GantryClient;
  readonly admin: AdminApi;
  readonly me: MeResponse;
  /** A valid access token (refreshed by the SessionManager when it is about to expire). */
  token(): Promise<string>;
  /** A call to an API route the SDK has no method for; the answer is checked against `schema`. */
  api<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>>;
  can(permission: string): boolean;
}

function newManager(url: string): SessionManager {
  return new SessionManager({
    url,
    onRefreshToken: (t) => {
      if (t) sessionStorage.setItem(STORAGE_KEY, t);
      else sessionStorage.removeItem(STORAGE_KEY);
    },
  });
}

async function open(url: string, manager: SessionManager): Promise<Session> {
  const token = () => manager.getValidToken();
  const api = async <S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${await token()}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw await errorFromResponse(r);
    return schema.parse(r.status === 204 ? null : await r.json()) as z.infer<S>;
  };
  const me = await api("GET", "/v1/auth/me", MeResponse);
  return {
    url,
    manager,
    client: manager.createClient({ events: "mqtt" }),
    admin: new AdminApi({ url, credential: token }),
    me,
    token,
    api,
    can: (p) => me.isAdmin || me.permissions.includes(p),
  };
}

export async function login(url: string, username: string, password: string): Promise<Session> {
  const manager = newManager(url);
  await manager.login(username, password);
  return open(url, manager);
}

/** The session kept in this tab, if its refresh token is still good. */
export async function resume(url: string): Promise<Session | undefined> {
  const kept = sessionStorage.getItem(STORAGE_KEY);
  if (!kept) return undefined;
  const manager = newManager(url);
  try {
    await manager.resume(kept);
    return await open(url, manager);
  } catch {
    sessionStorage.removeItem(STORAGE_KEY);
    return undefined;
  }
}

export async function logout(s: Session): Promise<void> {
  await s.api("POST", "/v1/auth/logout", z.unknown()).catch(() => {});
  s.client.close();
  s.manager.logout();
}
