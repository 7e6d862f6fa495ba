import http from "node:http";
import https from "node:https";
import { ErrorEnvelope } from "@gantry/protocol";
import { ServerList } from "./server-list.ts";
import type { TlsConnectOptions } from "./tls-options.ts";

/** A non-2xx answer, with the envelope's code when the server sent one. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

export interface HttpRequest {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  token?: string;
  signal?: AbortSignal;
  /** Socket idle limit; long-polls pass their wait plus a margin. @defaultValue 30000 */
  timeoutMs?: number;
}

/**
 * A tiny JSON client over node:http/https with keep-alive and our TLS options (client cert, CA,
 * insecure), which global fetch cannot take without an undici dispatcher.
 */
export class HttpClient {
  /** Every request goes to the list's current server (replicas: see server-list.ts). */
  readonly servers: ServerList;
  readonly #agent: http.Agent;
  readonly #mod: typeof http | typeof https;

  constructor(baseUrl: string | ServerList, tls: TlsConnectOptions) {
    this.servers = typeof baseUrl === "string" ? new ServerList(baseUrl) : baseUrl;
    const secure = new URL(this.servers.current).protocol === "https:";
    this.#mod = secure ? https : http;
    this.#agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 4, ...tls })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  request<T>(req: HttpRequest): Promise<T> {
    // Relative to the base URL's path, so a server behind a reverse proxy at /gantry/ works.
    const base = new URL(this.servers.current);
    const url = new URL(base.pathname.replace(/\/$/, "") + req.path, base);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    return new Promise<T>((resolve, reject) => {
      const r = this.#mod.request(
        url,
        { method: req.method, headers, agent: this.#agent, signal: req.signal, timeout: req.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = text.length ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(json as T);
            const env = ErrorEnvelope.safeParse(json);
            reject(
              new HttpError(
                status,
                env.success ? env.data.error.code : undefined,
                env.success ? env.data.error.message : `HTTP ${status} from ${req.method} ${url.pathname}`,
              ),
            );
          });
        },
      );
      r.on("timeout", () => r.destroy(new Error(`timeout on ${req.method} ${url.pathname}`)));
      r.on("error", reject);
      r.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
