import { type GantryServer, type ServerOptions, startServer } from "@gantry/server";
import { Api } from "./api.ts";
import { RawAgent } from "./raw-agent.ts";
import { tempDir } from "./temp-dir.ts";

/** Short timings so lease and deadline behaviour shows within a test's patience. */
export const FAST: ServerOptions = { heartbeatIntervalSecs: 0.2, leaseSecs: 1, sweepIntervalMs: 50, logLevel: "warn" };

export interface TestServer {
  server: GantryServer;
  api: Api;
  agent(body?: Record<string, unknown>): Promise<RawAgent>;
  close(): Promise<void>;
}

/** An in-process server on a free port with a fresh data dir; agents it makes are closed with it. */
export async function testServer(options: ServerOptions = FAST): Promise<TestServer> {
  const dir = tempDir();
  const server = await startServer({ port: 0, dataDir: dir.path, ...options });
  const agents: RawAgent[] = [];
  return {
    server,
    api: new Api(server.url, server.bootstrap.clientKey),
    agent: async (body = {}) => {
      const a = await RawAgent.enrol(server.url, server.bootstrap.agentKey, body);
      agents.push(a);
      return a;
    },
    close: async () => {
      await Promise.all(agents.map((a) => a.close()));
      await server.close();
      dir.remove();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
