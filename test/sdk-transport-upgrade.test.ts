import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { type ClientEventMap, GantryClient } from "@gantry/client";
import type { Job } from "@gantry/protocol";
import { FAST, sleep, type TestServer, testServer } from "./helpers/test-server.ts";

let t: TestServer;
before(async () => {
  t = await testServer({ ...FAST, mqttPort: 0 });
});
after(() => t.close());

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The broker "comes back" on `port`: each connection is piped to the embedded broker's MQTT/TCP port. */
function brokerOn(port: number, target: number): Promise<{ close: () => void }> {
  const sockets = new Set<Socket>();
  const s = createServer((client) => {
    client.pause();
    const up = connect(target, "127.0.0.1", () => {
      client.pipe(up).pipe(client);
      client.resume();
    });
    sockets.add(client).add(up);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    up.on("error", end).on("close", end);
    client.on("error", end).on("close", end);
  });
  return new Promise((resolve) =>
    s.listen(port, "127.0.0.1", () =>
      resolve({
        close: () => {
          for (const x of sockets) x.destroy();
          s.close();
        },
      }),
    ),
  );
}

test("broker down, then up: the client falls back to the WebSocket, moves back up to MQTT, and callbacks neither repeat nor go missing", {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const changes: ClientEventMap["events:transport:changed"][] = [];
  const client = new GantryClient({
    url: t.server.url,
    apiKey: t.server.bootstrap.clientKey,
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    connectTimeoutMs: 1000,
    upgrade: { baseMs: 100, capMs: 400 },
  });
  client.on("events:transport:changed", (c) => changes.push(c));
  const cap = "sdk.upgrade";
  const job = await client.submit(cap, {});
  const progress: number[] = [];
  const statuses: string[] = [];
  const completes: Job[] = [];
  const done = new Promise<void>((resolve, reject) =>
    client.subscribeJobUpdates(job.id, {
      onProgress: (p) => {
        progress.push(p.percent);
      },
      onStatus: (s) => {
        statuses.push(s);
      },
      onComplete: (j) => {
        completes.push(j);
        resolve();
      },
      onError: reject,
    }),
  );
  assert.equal(await client.connectEvents(), "ws");
  assert.equal(client.eventsTransport, "ws");
  assert.equal(changes[0]?.transport, "ws");
  assert.equal(changes[0]?.skipped[0]?.transport, "mqtt");

  const a = await t.agent({ capabilities: [cap] });
  await a.connect();
  const p = await a.nextJob();
  await a.request({ type: "job:started", jobId: job.id, epoch: p.epoch });
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 20 } });
  // Still on the WebSocket: the 20 arrives there.
  while (!progress.includes(20)) await sleep(20);

  const broker = await brokerOn(port, t.server.mqtt.tcpPort!);
  const upgraded = new Promise<void>((resolve) =>
    client.on("events:transport:changed", (c) => c.transport === "mqtt" && resolve()),
  );
  await upgraded;
  assert.equal(client.eventsTransport, "mqtt");
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 40 } });
  await a.request({ type: "job:progress", jobId: job.id, epoch: p.epoch, progress: { percent: 80 } });
  await a.request({ type: "job:completed", jobId: job.id, epoch: p.epoch, output: { ok: true } });
  await done;
  await sleep(300);

  assert.deepEqual(progress, [20, 40, 80], "each report once, in order, across the switch");
  assert.equal(completes.length, 1);
  assert.deepEqual(completes[0]?.output, { ok: true });
  assert.equal(statuses.filter((s) => s === "completed").length, 1);
  assert.deepEqual(
    changes.map((c) => [c.transport, c.previous, c.reason]),
    [
      ["ws", undefined, "connected"],
      ["mqtt", "ws", "upgraded"],
    ],
  );
  client.close();
  broker.close();
  await a.close();
});
