import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventsTransport, GantryClient } from "@gantry/client";
import { mqttTopics } from "@gantry/protocol";
import { startServer } from "@gantry/server";
import mqtt, { type MqttClient } from "mqtt";
import { RawAgent } from "../../test/helpers/raw-agent.ts";
import { type Distribution, distribution, round } from "./stats.ts";

export interface MqttBenchResult {
  subscribers: number;
  events: number;
  /** Job events per second, each delivered to every subscriber. */
  eventsPerSec: number;
  /** Messages per second leaving the broker (events × subscribers). */
  deliveriesPerSec: number;
  latencyMs: Record<EventsTransport, Distribution>;
}

/**
 * In one run, on the embedded broker (MQTT/TCP, in-process server): (1) job progress events from an
 * agent fanned out to `subscribers` MQTT clients on the job's topic; (2) submit → onComplete over
 * MQTT and over the client WebSocket, one job at a time, against an agent that completes at once.
 */
export async function runMqtt(
  opts: { subscribers: number; events: number; jobs: number },
  log: (l: string) => void,
): Promise<MqttBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "gantry-mqtt-bench-"));
  const server = await startServer({ port: 0, dataDir: dir, logLevel: "warn", mqttPort: 0 });
  const key = server.bootstrap.clientKey;
  const clients: MqttClient[] = [];
  try {
    const agent = await RawAgent.enrol(server.url, server.bootstrap.agentKey, {
      capabilities: ["bench.mqtt"],
      capacity: 1,
    });
    agent.startHeartbeats(1000);
    await agent.connect();
    const sdk = new GantryClient({ url: server.url, apiKey: key });
    const job = await sdk.submit({ capability: "bench.mqtt" });
    const assigned = await agent.nextJob();
    await agent.request({ type: "job:started", jobId: job.id, epoch: assigned.epoch });
    let received = 0;
    const want = opts.subscribers * opts.events;
    let allIn: () => void = () => {};
    const done = new Promise<void>((r) => (allIn = r));
    for (let i = 0; i < opts.subscribers; i++) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqtt.tcpPort}`, {
        username: "bench",
        password: key,
        reconnectPeriod: 0,
      });
      c.on("message", () => {
        if (++received === want) allIn();
      });
      await c.subscribeAsync(mqttTopics.job(job.id), { qos: 1 });
      clients.push(c);
    }
    log(`mqtt: ${opts.subscribers} subscribers connected; sending ${opts.events} progress events`);
    const t0 = performance.now();
    for (let i = 0; i < opts.events; i++) {
      agent.send({
        type: "job:progress",
        ref: agent.nextRef(),
        jobId: job.id,
        epoch: assigned.epoch,
        progress: { percent: (i % 100) + 0.5 },
      });
    }
    await done;
    const secs = (performance.now() - t0) / 1000;
    await agent.request({ type: "job:completed", jobId: job.id, epoch: assigned.epoch, output: null });
    for (const c of clients) c.end(true);
    clients.length = 0;

    const latencyMs = {} as Record<EventsTransport, Distribution>;
    const completer = (async () => {
      for (;;) {
        const j = await agent.nextJob(60_000).catch(() => undefined);
        if (!j) return;
        agent.send([
          { type: "job:started", ref: agent.nextRef(), jobId: j.id, epoch: j.epoch },
          { type: "job:completed", ref: agent.nextRef(), jobId: j.id, epoch: j.epoch, output: null },
        ]);
      }
    })();
    for (const events of ["mqtt", "ws"] as const) {
      const client = new GantryClient({ url: server.url, apiKey: key, events });
      await client.connectEvents();
      const samples: number[] = [];
      for (let i = 0; i < opts.jobs; i++) {
        const t = performance.now();
        await new Promise<void>((resolve) => {
          void client.submit("bench.mqtt", {}, { onComplete: () => resolve() });
        });
        samples.push(performance.now() - t);
      }
      latencyMs[events] = distribution(samples);
      log(`mqtt: submit→onComplete over ${events}: p50 ${latencyMs[events].p50} ms, p99 ${latencyMs[events].p99} ms`);
      client.close();
    }
    await agent.close();
    void completer;
    return {
      subscribers: opts.subscribers,
      events: opts.events,
      eventsPerSec: round(opts.events / secs, 0),
      deliveriesPerSec: round(want / secs, 0),
      latencyMs,
    };
  } finally {
    for (const c of clients) c.end(true);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
