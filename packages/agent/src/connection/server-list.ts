/**
 * The server URLs an agent may use: replicas of one cluster (docs/scale-out.md), given as
 * `--server a --server b` or `--server a,b` and saved in the config as one comma-separated string.
 * Every HTTP request and every new link goes to `current`; when a link is lost or a connect fails the
 * connection manager moves to the next URL (round-robin) before its backoff wait, so an agent whose
 * replica died reconnects to another one.
 */
export class ServerList {
  readonly urls: readonly string[];
  #i = 0;

  /** Throws on an empty list, a URL that does not parse, or URLs of different schemes. */
  constructor(spec: string) {
    const urls = parseServerUrls(spec);
    if (urls.length === 0) throw new Error("no server URL given");
    const schemes = new Set(urls.map((u) => new URL(u).protocol));
    if (schemes.size > 1) throw new Error(`all server URLs must use one scheme (http or https): ${urls.join(", ")}`);
    this.urls = urls;
  }

  get current(): string {
    return this.urls[this.#i]!;
  }

  /** Moves to the next URL (the current one failed); returns it. One URL: stays on it. */
  next(): string {
    this.#i = (this.#i + 1) % this.urls.length;
    return this.current;
  }
}

/** `a, b,,a` → `[a, b]`: split on commas, trimmed, empty and repeated entries dropped. */
export function parseServerUrls(spec: string): string[] {
  return [
    ...new Set(
      spec
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

/** Whether two saved server specs name the same cluster (they share a URL): the identity stays valid. */
export function sameCluster(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const other = new Set(parseServerUrls(b));
  return parseServerUrls(a).some((u) => other.has(u));
}
