import type { AgentToServer, ServerToAgent } from "@gantry/protocol";
import WebSocket from "ws";
import type { HttpJson } from "./http-json.ts";
import { wallNow } from "./stats.ts";

/** What a bench agent does with pushed jobs. `idle` agents only connect and send heartbeats. */
export type ProtoAgentMode = "work" | "latency" | "idle";

export interface ProtoAgentOptions {
  /** Server base URL (http://127.0.0.1:port). */
  url: string;
  /** Registration/auth client, shared by the agents of one process. */
  http: HttpJson;
  /** Enrolment key from bootstrap.json. */
  agentKey: string;
  capability: string;
  capacity: number;
  mode: ProtoAgentMode;
  /** Called once per incoming frame with the number of completions acknowledged in it. */
  onCompleted?: (count: number, at: number) => void;
  /** Called with submit→receipt latency (ms) of each non-warm-up job (latency mode). */
  onSample?: (ms: number) => void;
}

/**
 * A bare protocol agent, like test/helpers/raw-agent.ts but built for load: every job it is pushed
 * is answered at once with job:started + job:completed (output = payload), and all messages of one
 * event-loop turn leave as one JSON-array frame, as the agent protocol allows.
 */
export class ProtoAgent {
  agentId = "";
  nacks = 0;
  firstNack: unknown = null;
  closed = false;
  readonly #o: ProtoAgentOptions;
  #key = "";
  #token = "";
  #ws: WebSocket | undefined;
  #ref = 0;
  readonly #completionRefs = new Set<number>();
  #out: AgentToServer[] = [];
  #flushScheduled = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: ProtoAgentOptions) {
    this.#o = opts;
  }

  /** POST /agent/register then /agent/auth. */
  async enrol(): Promise<void> {
    const reg = await this.#o.http.post("/agent/register", {
      apiKey: this.#o.agentKey,
      capabilities: [this.#o.capability],
      capacity: this.#o.capacity,
      tier: 5,
      systemInfo: { os: "bench", arch: process.arch },
    });
    if (reg.status !== 200) throw new Error(`register ${reg.status} ${JSON.stringify(reg.body).slice(0, 200)}`);
    this.agentId = reg.body.agentId;
    this.#key = reg.body.key;
    const auth = await this.#o.http.post("/agent/auth", { agentId: this.agentId, key: this.#key });
    if (auth.status !== 200) throw new Error(`auth ${auth.status} ${JSON.stringify(auth.body).slice(0, 200)}`);
    this.#token = auth.body.token;
  }

  /** Opens the WebSocket, sends hello and resolves on welcome; heartbeats start at the interval it gives. */
  connect(timeoutMs = 60_000): Promise<void> {
    const ws = new WebSocket(`${this.#o.url.replace(/^http/, "ws")}/v1/agent/ws`, {
      headers: { authorization: `Bearer ${this.#token}` },
      perMessageDeflate: false,
    });
    this.#ws = ws;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("no welcome in time")), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      ws.once("open", () => this.#send({ type: "hello", protocolVersion: 1, running: [] }));
      ws.once("error", (err) => fail(err));
      ws.on("close", (code) => {
        this.closed = true;
        clearInterval(this.#heartbeat);
        fail(new Error(`closed ${code}`));
      });
      ws.on("message", (data: Buffer) => {
        const now = wallNow();
        const parsed = JSON.parse(data.toString()) as ServerToAgent | ServerToAgent[];
        let completed = 0;
        for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
          if (m.type === "job:assign") this.#onAssign(m.job, now);
          else if (m.type === "ack") {
            if (this.#completionRefs.delete(m.ref)) completed++;
          } else if (m.type === "nack") {
            this.nacks++;
            this.firstNack ??= m;
            this.#completionRefs.delete(m.ref);
          } else if (m.type === "welcome") {
            clearTimeout(timer);
            this.#startHeartbeats(m.heartbeatIntervalSecs);
            resolve();
          }
        }
        if (completed > 0) this.#o.onCompleted?.(completed, now);
      });
    });
  }

  close(): void {
    clearInterval(this.#heartbeat);
    this.#ws?.terminate();
  }

  #onAssign(job: { id: string; epoch: number; payload: unknown }, receivedAt: number): void {
    if (this.#o.mode === "latency") {
      const p = job.payload as { t?: number; w?: boolean } | null;
      if (p && typeof p.t === "number" && !p.w) this.#o.onSample?.(receivedAt - p.t);
    }
    const startedRef = ++this.#ref;
    const completedRef = ++this.#ref;
    this.#completionRefs.add(completedRef);
    this.#send({ type: "job:started", ref: startedRef, jobId: job.id, epoch: job.epoch });
    this.#send({ type: "job:completed", ref: completedRef, jobId: job.id, epoch: job.epoch, output: job.payload });
  }

  #startHeartbeats(intervalSecs: number): void {
    const ms = intervalSecs * 1000;
    // A random phase so thousands of agents do not beat in step.
    const first = setTimeout(() => {
      this.#beat();
      this.#heartbeat = setInterval(() => this.#beat(), ms);
    }, Math.random() * ms);
    this.#heartbeat = first;
  }

  #beat(): void {
    this.#send({ type: "heartbeat", status: this.#o.mode === "idle" ? "idle" : "busy", running: [] });
  }

  #send(m: AgentToServer): void {
    this.#out.push(m);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    this.#out = [];
    const ws = this.#ws;
    if (out.length === 0 || !ws || ws.readyState !== WebSocket.OPEN) return;
    // The protocol caps a frame at 10,000 messages.
    for (let i = 0; i < out.length; i += 10_000) {
      const part = out.slice(i, i + 10_000);
      ws.send(JSON.stringify(part.length === 1 ? part[0] : part));
    }
  }
}
