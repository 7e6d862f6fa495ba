import { z } from "zod";

/** One capability as clients see it (`GET /v1/capabilities`, MQTT `gantry/capabilities`). */
export const CapabilitySummary = z.object({
  /** Base name, e.g. `clip_embedding` or `llm.mistral-7b`. */
  name: z.string(),
  /** Connected agents serving it (draining ones included). */
  agents: z.number().int().nonnegative(),
  /** Slots free right now across those agents. */
  freeSlots: z.number().int().nonnegative(),
  /** Jobs waiting for it. */
  queued: z.number().int().nonnegative(),
  /** Attributes advertised by the online agents (`gpu`, `ctx:8192`), merged; a flag is `true`. */
  attributes: z.record(z.string(), z.union([z.string(), z.literal(true)])),
});
export type CapabilitySummary = z.infer<typeof CapabilitySummary>;

/** `GET /v1/capabilities`: every capability with an online agent or a queued job, by name. */
export const CapabilitiesResponse = z.object({ capabilities: z.array(CapabilitySummary) });
export type CapabilitiesResponse = z.infer<typeof CapabilitiesResponse>;
