/** The SDK's environment defaults, read here and nowhere else (absent in browsers). */
export interface ClientEnv {
  /** GANTRY_URL */
  url: string | undefined;
  /** GANTRY_API_KEY */
  apiKey: string | undefined;
  /** GANTRY_MQTT_URL */
  mqttUrl: string | undefined;
}

export function readClientEnv(): ClientEnv {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const pick = (k: string) => (env[k] ? env[k] : undefined);
  return { url: pick("GANTRY_URL"), apiKey: pick("GANTRY_API_KEY"), mqttUrl: pick("GANTRY_MQTT_URL") };
}
