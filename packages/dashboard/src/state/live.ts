import {
  MQTT_MAX_PACKET_BYTES,
  MQTT_WS_PATH,
  MqttAgentPresence,
  MqttCapabilities,
  MqttJobMessage,
  mqttTopics,
} from "@gantry/protocol";
import mqtt, { type MqttClient } from "mqtt";
import type { Session } from "./session.ts";

/**
 * A job event as the dashboard uses it: the protocol's MqttJobMessage, or a `tokens` event (LLM text
 * as it is generated) whose delta is in `text` or `delta`.
 */
export type LiveJobEvent = MqttJobMessage | { type: "tokens"; jobId: string; text: string };
export type LiveState = "connecting" | "live" | "reconnecting" | "offline";

type Listener<T> = (value: T) => void;

/**
 * The dashboard's one live connection: MQTT over WebSocket to the server's embedded broker at
 * `/mqtt`, the same broker and topics the SDK follows jobs with. Admins subscribe to every job
 * (`gantry/jobs/+`); other users to each job they look at. Agent presence (with each heartbeat's
 * figures) and the capability summary are retained topics, so a fresh connection starts complete.
 */
export class Live {
  readonly #client: MqttClient;
  readonly #jobListeners = new Map<string, Set<Listener<LiveJobEvent>>>();
  readonly #anyJob = new Set<Listener<LiveJobEvent>>();
  readonly #agents = new Set<Listener<{ agentId: string; presence: MqttAgentPresence | null }>>();
  readonly #capabilities = new Set<Listener<MqttCapabilities>>();
  readonly #state = new Set<Listener<LiveState>>();
  readonly #jobRefs = new Map<string, number>();
  readonly #all: boolean;
  state: LiveState = "connecting";

  static async open(session: Session): Promise<Live> {
    return new Live(session, await session.token());
  }

  private constructor(session: Session, token: string) {
    this.#all = session.me.isAdmin;
    const url = `${session.url.replace(/^http/, "ws")}${MQTT_WS_PATH}`;
    this.#client = mqtt.connect(url, { username: "gantry", password: token, reconnectPeriod: 2000, clean: true });
    // Each reconnect presents a fresh access token.
    this.#client.on("close", () => {
      void session
        .token()
        .then((t) => {
          this.#client.options.password = t;
        })
        .catch(() => {});
    });
    this.#client.on("connect", () => {
      this.#setState("live");
      const topics: string[] = [];
      if (session.can("agents:read")) topics.push("gantry/agents/+");
      if (session.can("jobs:read")) topics.push(mqttTopics.capabilities);
      if (this.#all) topics.push("gantry/jobs/+");
      else topics.push(...[...this.#jobRefs.keys()].map(mqttTopics.job));
      if (topics.length) this.#client.subscribe(topics, { qos: 1 });
    });
    this.#client.on("reconnect", () => this.#setState("reconnecting"));
    this.#client.on("offline", () => this.#setState("offline"));
    this.#client.on("message", (topic, payload) => this.#dispatch(topic, payload));
  }

  #setState(s: LiveState) {
    this.state = s;
    for (const l of this.#state) l(s);
  }

  #dispatch(topic: string, payload: Uint8Array) {
    if (payload.length > MQTT_MAX_PACKET_BYTES) return;
    const agentId = /^gantry\/agents\/([^/]+)$/.exec(topic)?.[1];
    if (agentId) {
      const presence = payload.length === 0 ? null : MqttAgentPresence.safeParse(parse(payload)).data;
      if (presence === undefined) return;
      for (const l of this.#agents) l({ agentId, presence });
      return;
    }
    if (topic === mqttTopics.capabilities) {
      const caps = MqttCapabilities.safeParse(parse(payload));
      if (caps.success) for (const l of this.#capabilities) l(caps.data);
      return;
    }
    const raw = parse(payload) as Record<string, unknown> | undefined;
    // Token events are read by hand whatever shape the protocol gives them (text or delta).
    const delta = raw?.text ?? raw?.delta;
    const event: LiveJobEvent | undefined =
      raw?.type === "tokens"
        ? typeof raw.jobId === "string" && typeof delta === "string"
          ? { type: "tokens", jobId: raw.jobId, text: delta }
          : undefined
        : MqttJobMessage.safeParse(raw).data;
    if (!event) return;
    for (const l of this.#anyJob) l(event);
    for (const l of this.#jobListeners.get(event.jobId) ?? []) l(event);
  }

  onState(l: Listener<LiveState>): () => void {
    this.#state.add(l);
    return () => this.#state.delete(l);
  }
  onAgent(l: Listener<{ agentId: string; presence: MqttAgentPresence | null }>): () => void {
    this.#agents.add(l);
    return () => this.#agents.delete(l);
  }
  onCapabilities(l: Listener<MqttCapabilities>): () => void {
    this.#capabilities.add(l);
    return () => this.#capabilities.delete(l);
  }
  /** Every job event this connection receives (all jobs for admins, the watched ones otherwise). */
  onAnyJob(l: Listener<LiveJobEvent>): () => void {
    this.#anyJob.add(l);
    return () => this.#anyJob.delete(l);
  }

  /** Follows one job (subscribing to its topic unless every job is already followed). */
  watchJob(jobId: string, l?: Listener<LiveJobEvent>): () => void {
    const n = this.#jobRefs.get(jobId) ?? 0;
    this.#jobRefs.set(jobId, n + 1);
    if (n === 0 && !this.#all && this.#client.connected) this.#client.subscribe(mqttTopics.job(jobId), { qos: 1 });
    if (l) {
      let set = this.#jobListeners.get(jobId);
      if (!set) {
        set = new Set();
        this.#jobListeners.set(jobId, set);
      }
      set.add(l);
    }
    return () => {
      if (l) this.#jobListeners.get(jobId)?.delete(l);
      const left = (this.#jobRefs.get(jobId) ?? 1) - 1;
      if (left > 0) {
        this.#jobRefs.set(jobId, left);
        return;
      }
      this.#jobRefs.delete(jobId);
      this.#jobListeners.delete(jobId);
      if (!this.#all && this.#client.connected) this.#client.unsubscribe(mqttTopics.job(jobId));
    };
  }

  close(): void {
    this.#client.end(true);
  }
}

function parse(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
}
