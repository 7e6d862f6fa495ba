import { GantryClient } from "@gantry/client";
import { HttpJson } from "../lib/http-json.ts";
import type { ProducerDriver } from "./peer-driver.ts";
import type { PeerTarget } from "./peer-messages.ts";

type GantryTarget = Extract<PeerTarget, { system: "gantry" }>;

/**
 * Gantry's producer: `POST /v1/jobs` per job, `POST /v1/jobs/batch` for many (bodies not parsed, as
 * in submit.ts), and the SDK's default submit (pipelined over its WebSocket) for `addPipelined`.
 */
export function gantryProducer(target: GantryTarget): ProducerDriver {
  // 64 sockets: the open-loop sender must not queue behind a small pool (same as lib/sender-main.ts).
  const http = new HttpJson(target.url, { bearer: target.clientKey, maxSockets: 64 });
  const capability = target.capability;
  const sdk = new GantryClient({ url: target.url, apiKey: target.clientKey });
  return {
    async addPipelined(payload) {
      await sdk.submit({ capability, payload: { ...payload } });
    },
    async addOne(payload) {
      const r = await http.post("/v1/jobs", { capability, payload }, false);
      if (r.status !== 201) throw new Error(`HTTP ${r.status}`);
    },
    async addMany(payloads) {
      const r = await http.post(
        "/v1/jobs/batch",
        { jobs: payloads.map((payload) => ({ capability, payload })) },
        false,
      );
      if (r.status !== 201) throw new Error(`HTTP ${r.status}`);
    },
    async close() {
      sdk.close();
      http.close();
    },
  };
}
