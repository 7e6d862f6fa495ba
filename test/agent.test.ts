import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Agent, type AgentOptions, readConfigFile, startAgent } from "@gantry/agent";
import type { Job } from "@gantry/protocol";
import { type GantryServer, startServer } from "@gantry/server";

const silent = { logLevel: "silent", print: () => {}, metrics: false, reconnectBaseMs: 50, reconnectCapMs: 500 };

async function api<T>(server: GantryServer, method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(server.url + url, {
    method,
    headers: {
      authorization: `Bearer ${token ?? server.bootstrap.clientKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  assert.ok(res.ok, `${method} ${url} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function waitJob(server: GantryServer, id: string, statuses: Job["status"][]): Promise<Job> {
  return waitFor(`job ${id} in ${statuses}`, async () => {
    const job = await api<Job>(server, "GET", `/v1/jobs/${id}`);
    return statuses.includes(job.status) ? job : undefined;
  });
}

const submit = (server: GantryServer, body: Record<string, unknown>) => api<Job>(server, "POST", "/v1/jobs", body);

describe("agent against a real server", () => {
  let dir: string;
  let server: GantryServer;
  const agents: Agent[] = [];
  const start = async (name: string, extra: AgentOptions = {}) => {
    const agent = await startAgent({
      server: server.url,
      key: server.bootstrap.agentKey,
      configPath: path.join(dir, name, "agent.json"),
      ...silent,
      ...extra,
    });
    agents.push(agent);
    // Submit only once connected (see the report: jobs queued just before a hello may wait for the next kick).
    await waitFor("agent connected", () => (agent.status().connection === "ready" ? true : undefined));
    return agent;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-agent-test-"));
    server = await startServer({
      port: 0,
      dataDir: path.join(dir, "server"),
      logLevel: "silent",
      heartbeatIntervalSecs: 1,
    });
  });
  after(async () => {
    for (const a of agents) await a.stop({ drainTimeoutMs: 0 }).catch(() => {});
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("seed flow: register → auth → ping → connect → debug.echo completes; the second run needs no flags", async () => {
    const lines: string[] = [];
    const configPath = path.join(dir, "seed", "agent.json");
    const agent = await start("seed", { print: (l) => lines.push(l), capacity: 2 });
    for (const want of ["Registration successful!", "Authentication successful!", "Ping test successful"]) {
      assert.ok(
        lines.some((l) => l.includes(want)),
        `output has "${want}"`,
      );
    }
    const saved = readConfigFile(configPath);
    for (const f of ["server", "apiKey", "agentId", "key", "jwtToken", "tokenExpiresIn"] as const) {
      assert.ok(saved[f] !== undefined, `config has ${f}`);
    }
    assert.equal(fs.statSync(configPath).mode & 0o777, 0o600);
    assert.equal(saved.agentId, agent.agentId);

    const job = await submit(server, { capability: "debug.echo", payload: { x: 1 } });
    const done = await waitJob(server, job.id, ["completed", "failed"]);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { x: 1 });
    await agent.stop();
    assert.equal(await agent.done, 0);

    const again: string[] = [];
    const second = await startAgent({ configPath, ...silent, print: (l) => again.push(l) });
    agents.push(second);
    await waitFor("agent connected", () => (second.status().connection === "ready" ? true : undefined));
    assert.equal(second.agentId, agent.agentId);
    assert.ok(!again.some((l) => l.includes("Registration successful!")), "no second registration");
    const job2 = await submit(server, { capability: "debug.echo", payload: "again" });
    assert.equal((await waitJob(server, job2.id, ["completed"])).output, "again");
    await second.stop();
  });

  test("cancelling a running debug.sleep stops it and the job ends cancelled", async () => {
    const agent = await start("cancel");
    const job = await submit(server, { capability: "debug.sleep", payload: { ms: 60_000 } });
    await waitJob(server, job.id, ["running"]);
    await api(server, "POST", `/v1/jobs/${job.id}/cancel`, {});
    const done = await waitJob(server, job.id, ["cancelled", "failed", "completed"]);
    assert.equal(done.status, "cancelled");
    await waitFor("slot freed", () => (agent.status().jobs.length === 0 ? true : undefined));
    await agent.stop();
  });

  test("runtimeSecs is enforced by the agent: failed with category timeout", async () => {
    const agent = await start("runtime");
    const job = await submit(server, {
      capability: "debug.sleep",
      payload: { ms: 60_000 },
      runtimeSecs: 0.3,
      maxAttempts: 1,
    });
    const done = await waitJob(server, job.id, ["failed", "completed", "cancelled"]);
    assert.equal(done.status, "failed");
    assert.equal(done.error?.category, "timeout");
    await agent.stop();
  });

  test("debug.fail: transient failures are retried and the later attempt completes", async () => {
    const agent = await start("fail");
    const job = await submit(server, {
      capability: "debug.fail",
      payload: { failAttempts: 1 },
      maxAttempts: 3,
      backoffMs: 0,
    });
    const done = await waitJob(server, job.id, ["completed", "failed"]);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.output, { attempt: 2 });
    await agent.stop();
  });

  test("long-poll transport runs jobs and handles cancels", async () => {
    const agent = await start("poll", { transport: "poll", pollWaitSecs: 1, capacity: 2 });
    const job = await submit(server, { capability: "debug.echo", payload: [1, 2, 3] });
    assert.deepEqual((await waitJob(server, job.id, ["completed"])).output, [1, 2, 3]);
    await agent.stop();
  });

  test("capacity: never more jobs at once than capacity; all complete", async () => {
    const agent = await start("capacity", { capacity: 2 });
    const jobs = await Promise.all(
      Array.from({ length: 6 }, () => submit(server, { capability: "debug.sleep", payload: { ms: 100 } })),
    );
    let max = 0;
    const sampler = setInterval(() => {
      max = Math.max(max, agent.status().jobs.length);
    }, 5);
    for (const j of jobs) assert.equal((await waitJob(server, j.id, ["completed", "failed"])).status, "completed");
    clearInterval(sampler);
    assert.ok(max <= 2, `at most 2 at once (saw ${max})`);
    await agent.stop();
  });

  test("drain: stop lets running jobs finish, then exits 0", async () => {
    const agent = await start("drain", { capacity: 2 });
    const job = await submit(server, { capability: "debug.sleep", payload: { ms: 400 } });
    await waitJob(server, job.id, ["running"]);
    await agent.stop({ drainTimeoutMs: 10_000 });
    assert.equal(await agent.done, 0);
    assert.equal((await waitJob(server, job.id, ["completed", "failed", "queued"])).status, "completed");
  });

  test("revoked identity: the agent stops with exit code 3 and says how to re-enrol", async () => {
    const lines: string[] = [];
    const agent = await start("revoked", { print: (l) => lines.push(l) });
    const login = await api<{ accessToken: string }>(server, "POST", "/v1/auth/login", {
      username: server.bootstrap.adminUser,
      password: server.bootstrap.adminPassword,
    });
    await api(server, "POST", `/v1/agents/${agent.agentId}/revoke`, {}, login.accessToken);
    assert.equal(await agent.done, 3);
    assert.ok(lines.some((l) => l.includes("revoked") && l.includes("gantry agent --server")));
  });
});

/** Starts a server in a child process (so it can be killed -9); resolves with its URL and keys. */
function serverProcess(
  dataDir: string,
  port = 0,
): Promise<{ child: ChildProcess; url: string; port: number; agentKey: string; clientKey: string }> {
  const child = spawn(
    process.execPath,
    [new URL("./fixtures/agent-test-server.ts", import.meta.url).pathname, dataDir, String(port)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl !== -1) resolve({ child, ...JSON.parse(buf.slice(0, nl)) });
    });
    child.once("exit", (code) => reject(new Error(`server process exited with ${code}`)));
  });
}

test("server killed -9 mid-job: the result waits in the outbox; after restart the agent reconnects and delivers it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-agent-restart-"));
  let srv = await serverProcess(path.join(dir, "server"));
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const res = await fetch(srv.url + url, {
      method,
      headers: { authorization: `Bearer ${srv.clientKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as T;
  };
  const agent = await startAgent({
    server: srv.url,
    key: srv.agentKey,
    configPath: path.join(dir, "agent.json"),
    ...silent,
    capacity: 2,
  });
  try {
    await waitFor("agent connected", () => (agent.status().connection === "ready" ? true : undefined));
    const job = await call<Job>("POST", "/v1/jobs", { capability: "debug.sleep", payload: { ms: 800 } });
    await waitFor("running", async () =>
      (await call<Job>("GET", `/v1/jobs/${job.id}`)).status === "running" ? true : undefined,
    );
    srv.child.kill("SIGKILL");
    await waitFor("result kept in the outbox", () =>
      agent.status().outboxPending > 0 && agent.status().jobs.length === 0 ? true : undefined,
    );
    srv = await serverProcess(path.join(dir, "server"), srv.port);
    const done = await waitFor("completed", async () => {
      const j = await call<Job>("GET", `/v1/jobs/${job.id}`);
      return ["completed", "failed"].includes(j.status) ? j : undefined;
    });
    assert.equal(done.status, "completed");
    assert.equal(done.attempts.length, 1, "completed by the first attempt, not re-run");
    await waitFor("outbox drained", () => (agent.status().outboxPending === 0 ? true : undefined));
  } finally {
    await agent.stop({ drainTimeoutMs: 0 });
    srv.child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
