import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GantryServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { deployment, postgresReachable, startReplicas } from "./helpers/replicas.ts";
import { FAST, sleep } from "./helpers/test-server.ts";

/**
 * Replicas on one PostgreSQL, in one process for precise control (real sockets, real database):
 * what happens on replica B reaches an agent and a watcher connected to replica A.
 */
const reachable = await postgresReachable();
const d = deployment();
let a: GantryServer;
let b: GantryServer;
let apiA: Api;
let apiB: Api;
let admin: Api;
const agents: RawAgent[] = [];

before(async () => {
  if (!reachable) return;
  // Files live in one directory both replicas mount (--blob-dir), as docs/scale-out.md deploys them.
  const servers = await startReplicas(d, 2, { ...FAST, blobDir: `${d.dataDir}/shared-blobs` });
  a = servers[0]!;
  b = servers[1]!;
  apiA = new Api(a.url, a.bootstrap.clientKey);
  apiB = new Api(b.url, a.bootstrap.clientKey);
  const login = await apiB.call("POST", "/v1/auth/login", {
    username: a.bootstrap.adminUser,
    password: a.bootstrap.adminPassword,
  });
  assert.equal(login.status, 200, "a user logs in through another replica");
  admin = new Api(b.url, login.body.accessToken);
});
after(async () => {
  if (!reachable) return;
  await Promise.all(agents.map((x) => x.close()));
  await a?.close();
  await b?.close();
  await d.drop();
});

async function agentOn(server: GantryServer, capabilities: string[]): Promise<RawAgent> {
  const x = await RawAgent.enrol(server.url, a.bootstrap.agentKey, { capabilities });
  agents.push(x);
  x.startHeartbeats(200);
  await x.connect();
  return x;
}

/** Reads SSE events from a replica until `stop` says so. */
async function watch(url: string, key: string, stop: (types: string[]) => boolean): Promise<string[]> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200);
  const seen: string[] = [];
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    for (const line of buf.split("\n").filter((l) => l.startsWith("data: "))) {
      const e = JSON.parse(line.slice(6)) as { type: string; status?: string; line?: string };
      seen.push(e.type === "status" ? `status:${e.status}` : e.type === "log" ? `log:${e.line}` : e.type);
    }
    buf = buf.slice(buf.lastIndexOf("\n") + 1);
    if (stop(seen)) break;
  }
  return seen;
}

test("a job submitted to B runs on an agent connected to A; its events and its cancel cross over", {
  skip: !reachable,
}, async () => {
  const agent = await agentOn(a, ["rep.cancel"]);
  const job = await apiB.submit({ capability: "rep.cancel", payload: {} });
  const watcher = watch(`${a.url}/v1/jobs/${job.id}/events`, a.bootstrap.clientKey, (s) =>
    s.includes("status:cancelled"),
  );
  const assigned = await agent.nextJob(10_000);
  assert.equal(assigned.id, job.id, "B's submit woke dispatch on A");
  assert.equal((await agent.request({ type: "job:started", jobId: job.id, epoch: assigned.epoch })).type, "ack");
  await agent.request({
    type: "job:log",
    jobId: job.id,
    epoch: assigned.epoch,
    lines: [{ stream: "stdout", line: "hello from A" }],
  });
  await sleep(100);
  const cancelled = await apiB.call("POST", `/v1/jobs/${job.id}/cancel`);
  assert.ok(cancelled.status < 300, JSON.stringify(cancelled.body));
  const cancel = await agent.next((m) => m.type === "job:cancel", 10_000);
  assert.deepEqual(
    cancel,
    { type: "job:cancel", jobId: job.id, epoch: assigned.epoch },
    "B's cancel reached A's agent",
  );
  await agent.request({ type: "job:cancelled", jobId: job.id, epoch: assigned.epoch });
  const seen = await watcher;
  for (const e of ["status:running", "log:hello from A", "status:cancelled"])
    assert.ok(seen.includes(e), `${e} in ${seen}`);
  assert.equal((await apiB.get(job.id)).status, "cancelled");
});

test("a command sent through B reaches the agent on A; its outcome is recorded", {
  skip: !reachable,
  timeout: 30_000,
}, async () => {
  const agent = await agentOn(a, ["rep.cmd"]);
  const sent = await admin.call("POST", `/v1/agents/${agent.agentId}/commands`, { type: "diagnostics", ttlSecs: 60 });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const frame = await agent.next((m) => m.type === "command", 10_000);
  assert.equal(frame.type, "command");
  await agent.request({ type: "command:result", commandId: sent.body.id, status: "completed", output: { ok: 1 } });
  const list = await admin.call("GET", `/v1/agents/${agent.agentId}/commands`);
  assert.equal(list.body.commands.find((c: { id: string }) => c.id === sent.body.id)?.status, "completed");
});

test("GET /v1/agents on B shows an agent connected to A online; a newer link on B retires A's", {
  skip: !reachable,
}, async () => {
  const agent = await agentOn(a, ["rep.presence"]);
  const online = async (api: Api) =>
    (await api.call("GET", "/v1/agents")).body.agents.find((x: { id: string }) => x.id === agent.agentId);
  await sleep(200); // a sweep of A has recorded it alive
  assert.equal((await online(apiB)).online, true, "online, seen from B");
  assert.equal((await online(apiA)).online, true);
  // The agent reconnects to B (its A link still open, as after a network blip): A closes the stale link.
  const again = new RawAgent(b.url);
  Object.assign(again, { agentId: agent.agentId, key: agent.key, commandKey: agent.commandKey });
  agents.push(again);
  await again.auth();
  const closed = new Promise<number>((resolve) => agent.ws!.once("close", (code) => resolve(code)));
  await again.connect();
  assert.equal(await closed, 4000, "A retired the stale link");
  // Work for it now goes to the B link only.
  const job = await apiA.submit({ capability: "rep.presence" });
  assert.equal((await again.nextJob(10_000)).id, job.id);
  assert.equal((await online(apiA)).online, true);
});

test("a file uploaded through A downloads through B (the shared blob directory)", {
  skip: !reachable,
  timeout: 30_000,
}, async () => {
  const data = new TextEncoder().encode("bytes written through replica A ".repeat(1000));
  const up = await fetch(`${a.url}/v1/files?name=shared.bin`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.bootstrap.clientKey}`, "content-type": "application/octet-stream" },
    body: data,
  });
  assert.equal(up.status, 201);
  const { hash } = (await up.json()) as { hash: string };
  const down = await fetch(`${b.url}/v1/files/${hash}`, {
    headers: { authorization: `Bearer ${a.bootstrap.clientKey}` },
  });
  assert.equal(down.status, 200);
  assert.deepEqual(new Uint8Array(await down.arrayBuffer()), data);
});
