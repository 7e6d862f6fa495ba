import { MQTT_MAX_PACKET_BYTES, MqttJobMessage, mqttTopics } from "@gantry/protocol";
import mqtt, { type MqttClient } from "mqtt";
import { resolveToken, type TokenSource } from "../credentials.ts";
import type { JobSignal, UpdateSource } from "./update-source.ts";

/**
 * Job updates over MQTT (the embedded broker at `/mqtt` over WebSocket, MQTT/TCP, or an external
 * broker). The credential goes as the password; a refreshed token is used on each reconnect.
 * Messages over MQTT_MAX_PACKET_BYTES or not matching MqttJobMessage are dropped.
 */
export class MqttSource implements UpdateSource {
  readonly kind = "mqtt";
  readonly #client: MqttClient;
  readonly #listeners = new Map<string, Set<(s: JobSignal) => void>>();

  private constructor(client: MqttClient) {
    this.#client = client;
    client.on("message", (topic, payload) => {
      const set = this.#listeners.get(topic);
      if (!set || payload.length > MQTT_MAX_PACKET_BYTES) return;
      let parsed: MqttJobMessage;
      try {
        parsed = MqttJobMessage.parse(JSON.parse(payload.toString()));
      } catch {
        return;
      }
      const signal: JobSignal =
        parsed.type === "status"
          ? { kind: "status", status: parsed.status }
          : parsed.type === "progress"
            ? { kind: "progress", progress: parsed.progress }
            : parsed.type === "tokens"
              ? { kind: "tokens", tokens: { epoch: parsed.epoch, seq: parsed.seq, text: parsed.text } }
              : { kind: "other" };
      for (const l of [...set]) l(signal);
    });
  }

  static async connect(url: string, credential: TokenSource | undefined, timeoutMs: number): Promise<MqttSource> {
    const token = await resolveToken(credential);
    const client = await mqtt.connectAsync(
      url,
      {
        // MQTT 3.1.1 allows a password only with a username; the broker ignores the name.
        ...(token ? { username: "gantry", password: token } : {}),
        connectTimeout: timeoutMs,
        reconnectPeriod: 1000,
        clean: true,
      },
      // Fail fast when the broker is not there, so the client can fall back; reconnect once connected.
      false,
    );
    if (typeof credential === "function") {
      client.on("close", () => {
        void resolveToken(credential).then((t) => {
          if (t) client.options.password = t;
        });
      });
    }
    return new MqttSource(client);
  }

  async watch(jobId: string, onSignal: (s: JobSignal) => void): Promise<() => void> {
    const topic = mqttTopics.job(jobId);
    let set = this.#listeners.get(topic);
    const first = !set;
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(onSignal);
    if (first) {
      try {
        await this.#client.subscribeAsync(topic, { qos: 1 });
      } catch (err) {
        set.delete(onSignal);
        if (set.size === 0) this.#listeners.delete(topic);
        throw err;
      }
    }
    return () => {
      const s = this.#listeners.get(topic);
      s?.delete(onSignal);
      if (s?.size === 0) {
        this.#listeners.delete(topic);
        this.#client.unsubscribe(topic);
      }
    };
  }

  close(): void {
    this.#client.end(true);
  }
}
