import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { AgentView } from "@gantry/protocol";
import { Api } from "./helpers/api.ts";
import { type Proc, spawnAgent, spawnServer } from "./helpers/processes.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep } from "./helpers/test-server.ts";

/**
 * The repro with real processes: the server is paused (SIGSTOP), the agent is killed -9
 * mid-job, the server resumes and the agent restarts in the same directory. Before, the job stayed
 * `running` forever and the agent showed idle with the job in runningJobs.
 */
const procs: Proc[] = [];
const dirs: Array<{ remove(): void }> = [];
after(async () => {
  for (const p of procs) {
    p.kill("SIGCONT");
    p.kill("SIGKILL");
  }
  await Promise.all(procs.map((p) => p.exited));
  for (const d of dirs) d.remove();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test("a job whose agent was killed while the server was paused is recovered; no slot leaks", async () => {
  const serverDir = tempDir("gantry-lost-server-");
  const agentDir = tempDir("gantry-lost-agent-");
  dirs.push(serverDir, agentDir);
  const server = await spawnServer({
    port: 0,
    dataDir: serverDir.path,
    heartbeatIntervalSecs: 1,
    leaseSecs: 4,
    sweepIntervalMs: 100,
    logLevel: "warn",
  });
  procs.push(server);
  const agentOptions = {
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath: join(agentDir.path, "agent.json"),
    dataDir: join(agentDir.path, "data"),
    capacity: 1,
    reconnectBaseMs: 100,
    reconnectCapMs: 1000,
    metrics: false,
    logLevel: "warn",
  };
  const first = await spawnAgent(agentOptions);
  procs.push(first);
  const api = new Api(server.url, server.bootstrap.clientKey);
  const job = await api.submit({ capability: "debug.sleep", payload: { ms: 6000 }, backoffMs: 0 });
  const running = await api.waitFor(job.id, (j) => j.status === "running", 30_000);

  server.kill("SIGSTOP");
  await sleep(1500);
  first.kill("SIGKILL");
  await first.exited;
  server.kill("SIGCONT");
  const second = await spawnAgent(agentOptions);
  procs.push(second);

  const done = await api.waitFor(job.id, (j) => j.status === "completed", 90_000);
  assert.ok(done.attempts.length >= 2, "the killed attempt was given up and the job ran again");
  assert.notEqual(done.attempts.at(-1)!.epoch, running.attempts[0]!.epoch);
  const view = await until("the agent idle with no held jobs", async () => {
    const agents = (await api.call("GET", "/v1/agents")).body.agents as AgentView[];
    const a = agents.find((x) => x.id === second.agentId);
    return a?.online && a.runningJobs.length === 0 ? a : undefined;
  });
  assert.deepEqual(view.runningJobs, []);
});
