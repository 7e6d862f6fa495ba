import http from "node:http";

export interface JsonResponse {
  status: number;
  body: any;
}

/**
 * A small keep-alive JSON client over node:http. fetch (undici) costs more CPU per request, and the
 * bench shares 2 cores with the server, so every client-side microsecond shows up in the figures.
 */
export class HttpJson {
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, opts: { maxSockets?: number; bearer?: string } = {}) {
    this.#base = new URL(baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
    this.#headers = opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {};
  }

  /** Sends a request; resolves with the status and the parsed body (null when empty). Never rejects on 4xx/5xx. */
  request(method: string, path: string, body?: unknown, parse = true): Promise<JsonResponse> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...this.#headers };
    if (data !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(data);
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#base.hostname,
          port: this.#base.port,
          path,
          method,
          headers,
          agent: this.#agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = null;
            if (parse && text) {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  post(path: string, body: unknown, parse = true): Promise<JsonResponse> {
    return this.request("POST", path, body, parse);
  }

  get(path: string): Promise<JsonResponse> {
    return this.request("GET", path);
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
