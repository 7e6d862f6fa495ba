import http from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentToServer, ServerToAgent } from "@gantry/protocol";
import WebSocket, { WebSocketServer } from "ws";

/** What the fake answers to one agent message; return undefined for its default, null for silence. */
export type Reply = (m: AgentToServer, link: WebSocket) => ServerToAgent[] | null | undefined;

/**
 * A fake Gantry server for the agent: a real HTTP + WebSocket server on loopback that enrols any
 * agent and speaks the agent protocol under the test's control. By default it welcomes each hello
 * (leaseSecs from options), acks every ref'd message and answers heartbeats with `heartbeat:ack`;
 * `reply` overrides any of that per message. Every agent message is recorded in `received`.
 */
export class FakeAgentServer {
  readonly received: AgentToServer[] = [];
  reply: Reply = () => undefined;
  /** Answer heartbeats with heartbeat:ack (an old server does not). */
  ackHeartbeats = true;
  leaseSecs = 5;
  heartbeatIntervalSecs = 0.2;
  link: WebSocket | undefined;
  readonly #http: http.Server;
  readonly #wss: WebSocketServer;
  #waiters: Array<{ pred: (m: AgentToServer) => boolean; resolve: (m: AgentToServer) => void }> = [];
  url = "";

  constructor(maxPayload = 16 * 1024 * 1024) {
    this.#wss = new WebSocketServer({ noServer: true, maxPayload });
    this.#http = http.createServer((req, res) => this.#httpRoute(req, res));
    this.#http.on("upgrade", (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#http.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
    return this;
  }

  /** Sends to the current link. */
  send(m: ServerToAgent | ServerToAgent[]): void {
    this.link?.send(JSON.stringify(m));
  }

  /** Sends a frame as given (for JSON too deep for this process's own JSON.stringify). */
  sendRaw(frame: string): void {
    this.link?.send(frame);
  }

  /** Ends the current link as a network cut would. */
  cut(): void {
    this.link?.terminate();
  }

  /** The next recorded agent message matching pred (already received ones first, consumed once). */
  next<T extends AgentToServer = AgentToServer>(pred: (m: AgentToServer) => boolean, timeoutMs = 20_000): Promise<T> {
    const i = this.#unseen.findIndex(pred);
    if (i !== -1) return Promise.resolve(this.#unseen.splice(i, 1)[0] as T);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (m: AgentToServer) => {
          clearTimeout(t);
          resolve(m as T);
        },
      };
      const t = setTimeout(() => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new Error(`fake server: timed out; received ${JSON.stringify(this.received).slice(-2000)}`));
      }, timeoutMs);
      this.#waiters.push(w);
    });
  }

  #unseen: AgentToServer[] = [];

  async close(): Promise<void> {
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    this.#http.closeAllConnections();
    await new Promise((r) => this.#http.close(r));
  }

  #accept(ws: WebSocket): void {
    this.link = ws;
    ws.on("error", () => {}); // an oversized frame closes the link (1009), as the real server does
    ws.on("message", (data) => {
      const parsed = JSON.parse(data.toString()) as AgentToServer | AgentToServer[];
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        this.received.push(m);
        const r = this.reply(m, ws);
        const out = r === undefined ? this.#default(m) : r;
        if (out?.length && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(out));
        const w = this.#waiters.find((x) => x.pred(m));
        if (w) {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          w.resolve(m);
        } else this.#unseen.push(m);
      }
    });
  }

  #default(m: AgentToServer): ServerToAgent[] | null {
    if (m.type === "hello") {
      return [
        {
          type: "welcome",
          protocolVersion: 1,
          agentId: "agent-1",
          heartbeatIntervalSecs: this.heartbeatIntervalSecs,
          leaseSecs: this.leaseSecs,
          drop: [],
        },
      ];
    }
    if (m.type === "heartbeat") {
      if (!this.ackHeartbeats) return null;
      return [{ type: "heartbeat:ack", ...(m.seq !== undefined ? { seq: m.seq } : {}), drop: [] }];
    }
    if ("ref" in m) return [{ type: "ack", ref: m.ref }];
    return null;
  }

  #httpRoute(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const body = HTTP_REPLIES[req.url ?? ""]?.(this);
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { error: { code: "route_not_found", message: "fake server" } }));
  }
}

/** The enrolment flow, answered for any agent. */
const HTTP_REPLIES: Record<string, (f: FakeAgentServer) => unknown> = {
  "/agent/register": (f) => ({
    agentId: "agent-1",
    key: "secret",
    message: "Registered",
    tier: 5,
    heartbeatIntervalSecs: f.heartbeatIntervalSecs,
    commandKey: "",
  }),
  "/agent/auth": () => ({ token: "token", expiresIn: Math.floor(Date.now() / 1000) + 3600 }),
  "/private/agent/ping": () => ({ status: "ok" }),
};
