import { isTerminal, type JobEvent, MQTT_PAYLOAD_VERSION, type MqttJobMessage, mqttTopics } from "@gantry/protocol";
import type { JobEvents } from "../events/job-events.ts";
import type { JobRecord } from "../store/store.ts";
import type { MqttSink } from "./mqtt-sink.ts";

/** How long an external broker keeps a finished job's retained terminal message. */
export const TERMINAL_RETAIN_SECS = 24 * 3600;

/** The thin MQTT message for a job event (log lines travel as their number only). */
export function mqttMessageOf(event: JobEvent): MqttJobMessage {
  const base = { v: MQTT_PAYLOAD_VERSION, jobId: event.jobId, at: event.at } as const;
  switch (event.type) {
    case "status":
      return { ...base, type: "status", status: event.status, epoch: event.epoch };
    case "progress":
      return { ...base, type: "progress", progress: event.progress };
    case "log":
      return { ...base, type: "log", seq: event.seq };
    case "output":
      return { ...base, type: "output" };
    case "tokens":
      return { ...base, type: "tokens", epoch: event.epoch, seq: event.seq, text: event.text };
  }
}

/** A finished job's terminal status message (the snapshot a late subscriber gets), else undefined. */
export function terminalMessageOf(job: JobRecord | undefined): string | undefined {
  if (!job || !isTerminal(job.status)) return undefined;
  const at = new Date(job.endedAt ?? Date.now()).toISOString();
  const m: MqttJobMessage = {
    v: MQTT_PAYLOAD_VERSION,
    type: "status",
    jobId: job.id,
    status: job.status,
    epoch: job.epoch,
    at,
  };
  return JSON.stringify(m);
}

/**
 * Subscribes to the job event stream (which emits after the commit that records each change) and
 * publishes each event on `gantry/jobs/{id}` at QoS 1. With `external` (a broker every replica shares) the
 * terminal status is also retained, expiring after TERMINAL_RETAIN_SECS. Payloads are small by
 * construction: progress text is bounded by the protocol (2,000 characters), token text by TOKENS_TEXT_MAX,
 * log lines go as numbers.
 * An external broker is shared by every replica, so it gets only the events this replica emitted (each
 * once per cluster); an embedded broker serves this replica's clients, so it gets every event.
 */
export function publishJobEvents(events: JobEvents, sink: MqttSink, opts: { external: boolean }): () => void {
  const subscribe = opts.external ? events.subscribeEmitted.bind(events) : events.subscribeAll.bind(events);
  return subscribe((event) => {
    const m = mqttMessageOf(event);
    const payload = JSON.stringify(m);
    const terminal = m.type === "status" && isTerminal(m.status);
    const retain = terminal && opts.external;
    sink.publish(mqttTopics.job(event.jobId), payload, {
      qos: 1,
      retain,
      ...(retain ? { expirySecs: TERMINAL_RETAIN_SECS } : {}),
    });
  });
}
