import type { Job } from "@gantry/protocol";

/** A thin JSON client for tests (the SDK has its own tests; these check the wire itself). */
export class Api {
  readonly url: string;
  readonly key: string;
  constructor(url: string, key: string) {
    this.url = url;
    this.key = key;
  }
  async call(method: string, path: string, body?: unknown, rawBody?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined || rawBody !== undefined) headers["content-type"] = "application/json";
    const r = await fetch(this.url + path, {
      method,
      headers,
      body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: r.status, body: parsed };
  }

  async submit(body: Record<string, unknown>): Promise<Job> {
    const r = await this.call("POST", "/v1/jobs", body);
    if (r.status !== 201 && r.status !== 200) throw new Error(`submit ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async get(id: string): Promise<Job> {
    const r = await this.call("GET", `/v1/jobs/${id}`);
    if (r.status !== 200) throw new Error(`get ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Polls until the job satisfies pred (tests must not assert timings; the deadline only bounds a hang). */
  async waitFor(id: string, pred: (j: Job) => boolean, timeoutMs = 20_000): Promise<Job> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const j = await this.get(id);
      if (pred(j)) return j;
      if (Date.now() > end) throw new Error(`job ${id} stuck: ${JSON.stringify(j)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  waitTerminal(id: string, timeoutMs?: number): Promise<Job> {
    return this.waitFor(id, (j) => ["completed", "failed", "cancelled"].includes(j.status), timeoutMs);
  }
}
