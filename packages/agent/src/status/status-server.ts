import fs from "node:fs";
import http from "node:http";
import path from "node:path";

export const PORT_FILE = "agent.port";

/** What `gantry agent status` shows. Local only; never includes secrets. */
export interface AgentStatusSnapshot {
  pid: number;
  agentId: string;
  name: string | null;
  server: string;
  /** running | draining | stopping | stopped (lifecycle), plus whether it is busy. */
  state: string;
  activity: "idle" | "busy" | "draining" | "stopping" | "stopped";
  connection: string;
  transport: "ws" | "poll";
  capacity: number;
  capabilities: string[];
  jobs: Array<{ id: string; capability: string; epoch: number; attempt: number }>;
  outboxPending: number;
  /** Messages given up on (refused for good, or too large to send): see `<dataDir>/dead-letters.jsonl`. */
  deadLetters: number;
  uptimeSecs: number;
}

/**
 * A loopback-only HTTP endpoint (`GET /status` on 127.0.0.1, ephemeral port written to
 * `<dataDir>/agent.port`). Binding to 127.0.0.1 keeps it off the network; it exposes no secrets.
 */
export async function startStatusServer(dataDir: string, snapshot: () => AgentStatusSnapshot): Promise<() => void> {
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/status") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(snapshot()));
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "route_not_found", message: "GET /status only" } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const port = (server.address() as { port: number }).port;
  const file = path.join(dataDir, PORT_FILE);
  fs.writeFileSync(file, `${port}\n`, { mode: 0o600 });
  return () => {
    server.close();
    try {
      if (fs.readFileSync(file, "utf8").trim() === String(port)) fs.unlinkSync(file);
    } catch {
      // already gone
    }
  };
}

/** Asks a running agent for its status; null when none answers. */
export async function fetchAgentStatus(dataDir: string): Promise<AgentStatusSnapshot | null> {
  let port: number;
  try {
    port = Number.parseInt(fs.readFileSync(path.join(dataDir, PORT_FILE), "utf8"), 10);
  } catch {
    return null;
  }
  try {
    const res = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    return (await res.json()) as AgentStatusSnapshot;
  } catch {
    return null;
  }
}
