/** Where the server's MQTT messages go: the embedded broker, or a client of an external one. */
export interface MqttSink {
  /** `retained` with `expirySecs` asks the broker to drop the retained copy after that long (MQTT 5). */
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean; expirySecs?: number }): void;
  close(): Promise<void>;
}
