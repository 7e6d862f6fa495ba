import mqtt, { type MqttClient } from "mqtt";
import type { MqttSink } from "./mqtt-sink.ts";

/**
 * Publishes to an external broker (`--mqtt-url`), over MQTT 5 so retained terminal messages can
 * expire. mqtt.js queues messages while disconnected and reconnects on its own; the queue is bounded
 * by dropping QoS 1 job events past `maxQueued` (a late subscriber still gets the retained end).
 * Authentication and ACLs are the broker's own (e.g. Mosquitto's acl_file).
 */
export class ExternalBroker implements MqttSink {
  readonly #client: MqttClient;
  readonly #maxQueued: number;
  #pending = 0;

  private constructor(client: MqttClient, maxQueued: number) {
    this.#client = client;
    this.#maxQueued = maxQueued;
  }

  static async connect(
    url: string,
    opts: { username?: string; password?: string; maxQueued?: number; onError: (err: unknown) => void },
  ): Promise<ExternalBroker> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: `gantry-server-${Math.random().toString(16).slice(2, 10)}`,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.password ? { password: opts.password } : {}),
    });
    client.on("error", opts.onError);
    return new ExternalBroker(client, opts.maxQueued ?? 10_000);
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean; expirySecs?: number }): void {
    if (this.#pending >= this.#maxQueued && !opts.retain) return;
    this.#pending++;
    const properties = opts.expirySecs ? { messageExpiryInterval: opts.expirySecs } : undefined;
    this.#client.publish(
      topic,
      payload,
      { qos: opts.qos, retain: opts.retain, ...(properties ? { properties } : {}) },
      () => {
        this.#pending--;
      },
    );
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}
