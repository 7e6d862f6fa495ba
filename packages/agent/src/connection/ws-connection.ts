import { type AgentToServer, ServerToAgent } from "@gantry/protocol";
import WebSocket from "ws";
import type { Connection, ConnectionHandlers } from "./connection.ts";
import { explainNetError, type TlsConnectOptions } from "./tls-options.ts";

/** `http(s)://host/…` → `ws(s)://host/v1/agent/ws`. */
export function agentWsUrl(server: string): string {
  const base = new URL(server);
  const u = new URL(`${base.pathname.replace(/\/$/, "")}/v1/agent/ws`, base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

/** Parses a frame (one message or an array); messages that fail the schema are reported and skipped. */
export function parseServerFrame(data: string, onBad: (why: string) => void): ServerToAgent[] {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    onBad("frame is not JSON");
    return [];
  }
  const items = Array.isArray(json) ? json : [json];
  const out: ServerToAgent[] = [];
  for (const item of items) {
    const r = ServerToAgent.safeParse(item);
    if (r.success) out.push(r.data);
    else onBad(`unknown or malformed message ${JSON.stringify(item).slice(0, 200)}`);
  }
  return out;
}

/** The WebSocket transport: jobs are pushed; each `send` is one frame (an array when batching). */
export function openWsConnection(
  server: string,
  token: string,
  tls: TlsConnectOptions,
  handlers: ConnectionHandlers,
  onBad: (why: string) => void,
  maxFrameBytes: number,
): Connection {
  const ws = new WebSocket(agentWsUrl(server), {
    headers: { authorization: `Bearer ${token}` },
    perMessageDeflate: false,
    handshakeTimeout: 15_000,
    ...tls,
  });
  let closed = false;
  const finish = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  };
  ws.on("open", () => handlers.onOpen());
  ws.on("message", (data, isBinary) => {
    if (isBinary) return onBad("binary frame ignored");
    const msgs = parseServerFrame(data.toString(), onBad);
    if (msgs.length) handlers.onMessages(msgs);
  });
  ws.on("close", (code, reason) => finish(code, reason.toString()));
  ws.on("unexpected-response", (_req, res) => {
    // The upgrade was refused with an HTTP status.
    // 401 and 403 both go through re-auth, which tells expiry from revocation.
    const code = res.statusCode === 401 || res.statusCode === 403 ? 4401 : 1006;
    ws.terminate();
    finish(code, `upgrade refused: HTTP ${res.statusCode}`);
  });
  ws.on("error", (err) => finish(1006, explainNetError(err)));
  return {
    kind: "ws",
    maxFrameBytes,
    send(messages: AgentToServer[], json?: string) {
      if (ws.readyState !== WebSocket.OPEN || messages.length === 0) return;
      ws.send(json ?? JSON.stringify(messages.length === 1 ? messages[0] : messages));
    },
    ready() {},
    slotsChanged() {},
    setToken() {},
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, "agent closing");
      finish(1000, "closed by agent");
    },
  };
}
