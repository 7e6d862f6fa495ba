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

/**
 * Bounds on the capability summary, whatever agents advertise: at most `maxCapabilities` entries
 * (the busiest kept: most agents, then most queued), at most `maxAttributes` attributes each, and
 * for the retained MQTT message at most `maxMqttBytes` of JSON. What is cut is flagged `truncated`;
 * `GET /v1/capabilities?name=a,b` still answers for any named capability.
 */
export const CAPABILITY_SUMMARY_LIMITS = { maxCapabilities: 500, maxAttributes: 32, maxMqttBytes: 60 * 1024 } as const;

/** `GET /v1/capabilities?name=a,b`: only these capabilities (base names, comma-separated, at most 100). */
export const CapabilitiesQuery = z.strictObject({
  name: z
    .string()
    .max(10_000)
    .transform((v) =>
      v
        .split(",")
        .map((n) => n.trim().toLowerCase())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().max(200)).max(100))
    .optional(),
});

/** `GET /v1/capabilities`: every capability with an online agent or a queued job, by name. */
export const CapabilitiesResponse = z.object({
  capabilities: z.array(CapabilitySummary),
  /** How many capabilities there are in all (more than listed when truncated). */
  total: z.number().int().nonnegative().optional(),
  /** Some capabilities or attributes were left out to keep the answer bounded. */
  truncated: z.boolean().optional(),
});
export type CapabilitiesResponse = z.infer<typeof CapabilitiesResponse>;
