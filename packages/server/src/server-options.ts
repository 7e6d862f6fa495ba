import type { HttpLimits } from "./http/http-limits.ts";
import type { RateLimitOptions } from "./limits/rate-limits.ts";

/** Options for one Gantry server. Resolved once (resolveServerOptions) and passed down. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. @defaultValue 7070 */
  port?: number;
  /** Interface to listen on. @defaultValue "127.0.0.1" */
  host?: string;
  /** Holds the database, keys and bootstrap.json. @defaultValue "./.gantry" */
  dataDir?: string;
  /** How often agents send heartbeats (told to them at registration and welcome). @defaultValue 10 */
  heartbeatIntervalSecs?: number;
  /** A held job's lease; every heartbeat renews it. @defaultValue 30 */
  leaseSecs?: number;
  /** Lifetime of agent and user access JWTs. @defaultValue 900 */
  tokenTtlSecs?: number;
  /** Highest tier an agent may claim for itself; higher claims are capped. @defaultValue 255 */
  maxTier?: number;
  /** How often deadlines and leases are checked. @defaultValue 200 */
  sweepIntervalMs?: number;
  /** pino level for the server log. @defaultValue "info" */
  logLevel?: string;
  /** Largest file one upload may carry, in bytes. @defaultValue 2 GiB */
  maxFileBytes?: number;
  /** Bytes of files one owner may hold (each blob once; outputs of its jobs count). @defaultValue 20 GiB */
  fileQuotaBytes?: number;
  /** Blobs no job references are deleted this long after their last reference. @defaultValue 86400 (a day) */
  fileGraceSecs?: number;
  /** How often unreferenced blobs are swept. @defaultValue 60000 */
  fileSweepIntervalMs?: number;
  /**
   * Serve HTTPS: PEM file paths. With `ca` and `requireClientCert`, clients (agents) must present a
   * certificate signed by that CA (mTLS). @defaultValue none (plain HTTP)
   */
  tls?: { certFile: string; keyFile: string; caFile?: string; requireClientCert?: boolean } | null;
  /** Finished jobs, their logs and attempts are deleted this many days after they end; 0 keeps them. @defaultValue 7 */
  retentionDays?: number;
  /** How often the retention sweep runs. @defaultValue 60000 */
  retentionSweepIntervalMs?: number;
  /** Audit entries (`GET /v1/audit`) are deleted this many days after they were recorded; 0 keeps them. @defaultValue 90 */
  auditRetentionDays?: number;
  /** Run the embedded MQTT broker (MQTT over WebSocket at /mqtt on the HTTP port). @defaultValue true */
  mqtt?: boolean;
  /** Also serve the embedded broker over MQTT/TCP on this port (0: a free one). @defaultValue null (no TCP) */
  mqttPort?: number | null;
  /** Publish to this external broker (`mqtt://host:port`) instead of running one. @defaultValue null */
  mqttUrl?: string | null;
  /** Username for the external broker. @defaultValue null */
  mqttUsername?: string | null;
  /** Password for the external broker. @defaultValue null */
  mqttPassword?: string | null;
  /** How often agent presence and the capability summary are compared and republished. @defaultValue 1000 */
  presenceIntervalMs?: number;
  /**
   * Accept requests without credentials (local development): they act as one anonymous client with
   * jobs:read, jobs:write and agents:read. The CLI binds such a server to loopback unless --host is
   * given. @defaultValue false
   */
  noAuth?: boolean;
  /**
   * The database: empty for the embedded SQLite file in dataDir, or a `postgres://` URL that any
   * number of replicas share. @defaultValue "" (embedded SQLite)
   */
  db?: string;
  /**
   * This server's name among the replicas sharing the database (a restart under the same name does
   * not count as another replica being alive). @defaultValue "" (embedded: "embedded"; PostgreSQL:
   * host name and port)
   */
  replicaId?: string;
  /**
   * Where blobs live; replicas on one database must share it (a volume every replica mounts).
   * @defaultValue "" (`<dataDir>/blobs`)
   */
  blobDir?: string;
  /** Overrides for the HTTP limits (timeouts, header and URL sizes). @defaultValue HTTP_LIMITS */
  httpLimits?: Partial<HttpLimits>;
  /** Requests per credential (or per address, without one) per window; null: unlimited. @defaultValue 6000 per minute */
  rateLimit?: RateLimitOptions | null;
  /** Origins browsers may call the API from (`*`: any); empty: no CORS headers. @defaultValue [] */
  corsOrigins?: string[];
  /**
   * Agents must connect with a client certificate from the server's own agent CA
   * (`<dataDir>/agent-ca/`), issued at enrolment for their id (send `csr` to `/agent/register`).
   * Needs `tls`. @defaultValue false
   */
  agentMtls?: boolean;
  /** How often live WebSocket and SSE connections re-check their credential (revoked, expired, logged out). @defaultValue 5000 */
  credentialRecheckMs?: number;
  /** Client watch sockets (WebSocket and SSE) one credential may hold open at once. @defaultValue 64 */
  maxStreamsPerCredential?: number;
  /** The built web dashboard served at `/`. @defaultValue "" (this checkout's `packages/dashboard/dist`) */
  dashboardDir?: string;
}

export const SERVER_DEFAULTS = {
  port: 7070,
  host: "127.0.0.1",
  dataDir: "./.gantry",
  heartbeatIntervalSecs: 10,
  leaseSecs: 30,
  tokenTtlSecs: 900,
  maxTier: 255,
  sweepIntervalMs: 200,
  logLevel: "info",
  maxFileBytes: 2 * 1024 ** 3,
  fileQuotaBytes: 20 * 1024 ** 3,
  fileGraceSecs: 86_400,
  fileSweepIntervalMs: 60_000,
  tls: null,
  httpLimits: {},
  mqtt: true,
  mqttPort: null,
  mqttUrl: null,
  mqttUsername: null,
  mqttPassword: null,
  presenceIntervalMs: 1000,
  noAuth: false,
  db: "",
  replicaId: "",
  blobDir: "",
  retentionDays: 7,
  retentionSweepIntervalMs: 60_000,
  auditRetentionDays: 90,
  rateLimit: { max: 6000, timeWindowMs: 60_000 },
  corsOrigins: [],
  credentialRecheckMs: 5000,
  agentMtls: false,
  maxStreamsPerCredential: 64,
  dashboardDir: "",
} satisfies Required<ServerOptions>;

export type ResolvedServerOptions = Required<ServerOptions>;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...SERVER_DEFAULTS, ...defined };
}
