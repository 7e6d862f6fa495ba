import { GantryError, MQTT_WS_PATH } from "@gantry/protocol";
import type { FastifyPluginAsync } from "fastify";
import { createWebSocketStream } from "ws";
import type { GantryContext } from "../context.ts";
import { EmbeddedBroker } from "./embedded-broker.ts";
import { ExternalBroker } from "./external-broker.ts";
import { publishJobEvents, terminalMessageOf } from "./job-event-publisher.ts";
import type { MqttSink } from "./mqtt-sink.ts";
import { publishPresence } from "./presence-publisher.ts";

/** What the MQTT plugin ended up serving, filled in when it registers. */
export interface MqttStatus {
  mode: "embedded" | "external" | "off";
  /** The MQTT/TCP port of the embedded broker, when `mqttPort` asked for one. */
  tcpPort?: number;
  /** Clients connected to the embedded broker. */
  connectedClients(): number;
}

/**
 * MQTT: the embedded aedes broker (MQTT over WebSocket at /mqtt on the HTTP port, MQTT/TCP on
 * `mqttPort` when set), or with `mqttUrl` a publisher to an external broker instead. Either way job
 * events, agent presence and the capability summary are published (see docs/mqtt.md).
 */
export const mqttPlugin: FastifyPluginAsync<{ ctx: GantryContext; status: MqttStatus }> = async (
  app,
  { ctx, status },
) => {
  const { options: opts } = ctx;
  const onError = (err: unknown, msg = "MQTT failed") => ctx.log.error({ err }, msg);
  let sink: MqttSink;
  if (opts.mqttUrl) {
    sink = await ExternalBroker.connect(opts.mqttUrl, {
      ...(opts.mqttUsername ? { username: opts.mqttUsername } : {}),
      ...(opts.mqttPassword ? { password: opts.mqttPassword } : {}),
      onError,
    });
    status.mode = "external";
  } else if (opts.mqtt) {
    const broker = await EmbeddedBroker.start({
      store: ctx.store,
      principals: ctx.principals,
      streams: ctx.streams,
      anonymous: ctx.principals.anonymous,
      terminalMessage: async (jobId) => {
        await ctx.store.barrier();
        return terminalMessageOf(await ctx.store.getJob(jobId));
      },
      onError,
    });
    app.route({
      method: "GET",
      url: MQTT_WS_PATH,
      schema: { hide: true },
      // A plain GET gets the one envelope; MQTT clients authenticate inside CONNECT, not on the upgrade.
      handler: async () => {
        throw new GantryError(
          "route_not_found",
          `${MQTT_WS_PATH} speaks MQTT over WebSocket; connect with an MQTT client.`,
        );
      },
      wsHandler: (socket) => {
        broker.handle(createWebSocketStream(socket));
      },
    });
    if (opts.mqttPort !== null) status.tcpPort = await broker.listenTcp(opts.mqttPort, opts.host);
    status.mode = "embedded";
    status.connectedClients = () => broker.connectedClients;
    sink = broker;
  } else {
    return;
  }
  const offEvents = publishJobEvents(ctx.events, sink, { external: status.mode === "external" });
  const presence = publishPresence(ctx, sink, {
    intervalMs: opts.presenceIntervalMs,
    shared: status.mode === "external",
    onError,
  });
  app.addHook("onClose", async () => {
    offEvents();
    await presence.stop();
    await sink.close();
  });
};
