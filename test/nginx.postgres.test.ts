import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import type { GantryServer } from "@gantry/server";
import { Api } from "./helpers/api.ts";
import { freePort } from "./helpers/processes.ts";
import { RawAgent } from "./helpers/raw-agent.ts";
import { deployment, postgresReachable, startReplicas } from "./helpers/replicas.ts";
import { FAST, sleep } from "./helpers/test-server.ts";

/**
 * docs/scale-out/nginx.conf, run by the real nginx in front of three replicas (ports rewritten to
 * free ones): an agent on WebSocket and a client through the one address. Skips without nginx.
 */
const NGINX = "/usr/sbin/nginx";
const hasNginx = existsSync(NGINX);
if (!hasNginx) console.log(`# SKIP nginx test: no ${NGINX} (apt-get install nginx)`);
const reachable = hasNginx && (await postgresReachable());
const d = deployment();
let servers: GantryServer[] = [];
let nginx: ChildProcess | undefined;
const agents: RawAgent[] = [];
after(async () => {
  nginx?.kill("SIGTERM");
  await Promise.all(agents.map((a) => a.close()));
  for (const s of servers) await s.close();
  if (reachable) await d.drop();
});

test("the documented nginx config serves three replicas: WebSocket agents, submits, SSE", {
  skip: !reachable,
  timeout: 60_000,
}, async () => {
  servers = await startReplicas(d, 3, FAST);
  const front = await freePort();
  let conf = readFileSync(new URL("../docs/scale-out/nginx.conf", import.meta.url), "utf8")
    .replaceAll("/tmp/gantry-nginx", join(d.dataDir, "nginx"))
    .replace("listen 127.0.0.1:7070;", `listen 127.0.0.1:${front};`);
  servers.forEach((s, i) => {
    conf = conf.replace(`server 127.0.0.1:707${i + 1} `, `server 127.0.0.1:${s.port} `);
  });
  const confPath = join(d.dataDir, "nginx.conf");
  writeFileSync(confPath, conf);
  nginx = spawn(NGINX, ["-c", confPath, "-g", "daemon off;"], { stdio: "inherit" });
  const url = `http://127.0.0.1:${front}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok) break;
    assert.ok(i < 100, "nginx answers");
    await sleep(50);
  }
  const key = servers[0]!.bootstrap;
  const api = new Api(url, key.clientKey);
  for (let i = 0; i < 3; i++) {
    const a = await RawAgent.enrol(url, key.agentKey, { capabilities: ["lb.cap"] });
    agents.push(a);
    a.startHeartbeats(200);
    await a.connect();
  }
  const jobs = [];
  for (let i = 0; i < 9; i++) jobs.push(await api.submit({ capability: "lb.cap", payload: { i } }));
  const watch = fetch(`${url}/v1/jobs/${jobs[0]!.id}/events`, {
    headers: { authorization: `Bearer ${key.clientKey}` },
  });
  const handled = new Set<string>();
  await Promise.all(
    agents.map(async (a) => {
      for (;;) {
        const job = await a.nextJob(5000).catch(() => undefined);
        if (!job) return;
        await a.request({ type: "job:completed", jobId: job.id, epoch: job.epoch, output: { by: a.agentId } });
        handled.add(job.id);
      }
    }),
  );
  assert.equal(handled.size, 9, "every job ran, through the balancer");
  for (const j of jobs) assert.equal((await api.get(j.id)).status, "completed");
  const sse = await (await watch).text();
  assert.match(sse, /"status":"completed"/, "SSE through nginx reached the end of the job");
});
