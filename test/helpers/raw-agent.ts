import type { AgentToServer, AssignedJob, ServerToAgent } from "@gantry/protocol";
import WebSocket from "ws";

/**
 * A bare agent speaking the wire protocol directly, for tests that need exact control over frames
 * (fencing, reconnects). Real sockets, real server; no agent package involved.
 */
export class RawAgent {
  agentId = "";
  key = "";
  /** The server's command-signing key, as pinned at registration. */
  commandKey = "";
  token = "";
  ws: WebSocket | undefined;
  readonly received: ServerToAgent[] = [];
  /** Jobs pushed to this agent and not yet ended by it (reported in heartbeats, as a real agent does). */
  readonly held = new Map<string, number>();
  #waiters: Array<{ pred: (m: ServerToAgent) => boolean; resolve: (m: ServerToAgent) => void }> = [];
  #ref = 0;
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  static async enrol(url: string, enrolmentKey: string, body: Record<string, unknown> = {}): Promise<RawAgent> {
    const a = new RawAgent(url);
    const reg = await post(`${url}/agent/register`, { apiKey: enrolmentKey, capabilities: ["debug.echo"], ...body });
    if (reg.status !== 200) throw new Error(`register failed ${reg.status} ${JSON.stringify(reg.body)}`);
    a.agentId = reg.body.agentId;
    a.key = reg.body.key;
    a.commandKey = reg.body.commandKey;
    await a.auth();
    return a;
  }

  async auth(): Promise<void> {
    const auth = await post(`${this.url}/agent/auth`, { agentId: this.agentId, key: this.key });
    if (auth.status !== 200) throw new Error(`auth failed ${auth.status} ${JSON.stringify(auth.body)}`);
    this.token = auth.body.token;
  }

  async connect(running: { jobId: string; epoch: number }[] = [], extra: Record<string, unknown> = {}) {
    const ws = new WebSocket(`${this.url.replace("http", "ws")}/v1/agent/ws`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    this.ws = ws;
    ws.on("message", (data) => {
      const parsed = JSON.parse(data.toString()) as ServerToAgent | ServerToAgent[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) this.#deliver(m);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    this.send({ type: "hello", protocolVersion: 1, running, ...extra } as AgentToServer);
    return this.next((m) => m.type === "welcome");
  }

  send(m: AgentToServer | AgentToServer[]): void {
    for (const x of Array.isArray(m) ? m : [m]) {
      const ends = ["job:completed", "job:failed", "job:cancelled", "job:rejected"];
      if (ends.includes(x.type) && "jobId" in x) this.held.delete(x.jobId);
    }
    this.ws!.send(JSON.stringify(m));
  }

  nextRef(): number {
    return ++this.#ref;
  }

  /** Sends a ref'd message and waits for its ack or nack. */
  async request(m: Record<string, unknown>): Promise<ServerToAgent> {
    const ref = this.nextRef();
    this.send({ ...m, ref } as AgentToServer);
    return this.next((r) => (r.type === "ack" || r.type === "nack") && r.ref === ref);
  }

  async nextJob(timeoutMs = 5000): Promise<AssignedJob> {
    const m = await this.next((x) => x.type === "job:assign", timeoutMs);
    return (m as Extract<ServerToAgent, { type: "job:assign" }>).job;
  }

  next(pred: (m: ServerToAgent) => boolean, timeoutMs = 5000): Promise<ServerToAgent> {
    const i = this.received.findIndex(pred);
    if (i !== -1) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: ServerToAgent) => {
          clearTimeout(t);
          resolve(m);
        },
      };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`timed out waiting; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  #beat: NodeJS.Timeout | undefined;

  /** Heartbeats keep this agent's leases alive; stop them to simulate a hung agent. */
  startHeartbeats(intervalMs: number): void {
    this.#beat = setInterval(() => {
      const running = [...this.held].map(([jobId, epoch]) => ({ jobId, epoch }));
      if (this.ws && this.ws.readyState === this.ws.OPEN) this.send({ type: "heartbeat", status: "busy", running });
    }, intervalMs);
  }

  stopHeartbeats(): void {
    clearInterval(this.#beat);
  }

  close(): Promise<void> {
    this.stopHeartbeats();
    const ws = this.ws;
    if (!ws || ws.readyState === ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once("close", () => resolve());
      ws.close();
    });
  }

  #deliver(m: ServerToAgent): void {
    if (m.type === "job:assign") this.held.set(m.job.id, m.job.epoch);
    const w = this.#waiters.find((x) => x.pred(m));
    if (w) {
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.resolve(m);
    } else this.received.push(m);
  }
}
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
