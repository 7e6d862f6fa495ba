/**
 * A bearer credential: a fixed API key or token, or a function returning a currently valid token
 * (SessionManager passes one so every request and reconnect gets a fresh access token).
 */
export type TokenSource = string | (() => string | Promise<string>);

export async function resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  return typeof source === "string" ? source : await source();
}
