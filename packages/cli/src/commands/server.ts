import { resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import {
  parseByteSize,
  parseCommaList,
  parseDays,
  parseNonNegativeInteger,
  parsePort,
  parseSeconds,
} from "../option-parsers.ts";
import { shutdownSignal } from "../shutdown-signal.ts";
import { StartupError } from "../startup-error.ts";
import { UsageError } from "../usage-error.ts";

export interface ServerFlags {
  port?: number;
  host?: string;
  data?: string;
  heartbeatInterval?: number;
  lease?: number;
  logLevel?: string;
  maxFileBytes?: number;
  fileQuotaBytes?: number;
  fileGrace?: number;
  retentionDays?: number;
  auditRetentionDays?: number;
  mqtt?: boolean;
  mqttPort?: number;
  mqttUrl?: string;
  auth?: boolean;
  db?: string;
  blobDir?: string;
  replicaId?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  requireClientCert?: boolean;
  corsOrigin?: string[];
  rateLimit?: number;
  agentMtls?: boolean;
  json?: boolean;
}

/** `gantry server`: runs the server in the foreground until SIGINT/SIGTERM. */
export function registerServer(parent: Command, ctx: CliContext): void {
  parent
    .command("server")
    .description("run the Gantry server (SQLite in --data, or PostgreSQL with --db) until Ctrl+C / SIGTERM")
    .option("--port <port>", "TCP port; 0 picks a free one (default: $GANTRY_PORT or 7070)", parsePort)
    .option("--host <host>", "address to listen on (default: $GANTRY_HOST or 127.0.0.1)")
    .option("--data <dir>", "data directory: database, keys, bootstrap.json (default: $GANTRY_DATA_DIR or ./.gantry)")
    .option(
      "--db <url>",
      "postgres://user@host/db[?schema=NAME]: a database any number of replicas share (default: $GANTRY_DB, else SQLite in --data)",
    )
    .option(
      "--blob-dir <dir>",
      "where files live; replicas on one database must share it (default: $GANTRY_BLOB_DIR or <data>/blobs)",
    )
    .option("--replica-id <name>", "this server's name among the replicas (default: host name and port)")
    .option("--heartbeat-interval <secs>", "how often agents send heartbeats (default 10)", parseSeconds)
    .option("--lease <secs>", "how long a held job survives without a heartbeat (default 30)", parseSeconds)
    .option("--max-file-bytes <size>", "largest file one upload may carry, e.g. 2G, 500M (default 2G)", parseByteSize)
    .option("--file-quota-bytes <size>", "bytes of files one owner may hold, e.g. 20G (default 20G)", parseByteSize)
    .option(
      "--file-grace <secs>",
      "keep files no job references this long after last use (default 86400)",
      parseSeconds,
    )
    .option(
      "--log-level <level>",
      "fatal, error, warn, info, debug, trace or silent (default: $GANTRY_LOG_LEVEL or info)",
    )
    .option(
      "--retention-days <days>",
      "delete finished jobs, their logs and attempts after this many days; 0 keeps them (default: $GANTRY_RETENTION_DAYS or 7)",
      parseDays,
    )
    .option(
      "--audit-retention-days <days>",
      "delete audit entries (GET /v1/audit) after this many days; 0 keeps them (default: $GANTRY_AUDIT_RETENTION_DAYS or 90)",
      parseDays,
    )
    .option(
      "--mqtt-port <port>",
      "also serve the embedded MQTT broker over TCP on this port (0: a free one)",
      parsePort,
    )
    .option("--mqtt-url <url>", "publish MQTT to this external broker (mqtt://host:port) instead of the embedded one")
    .option("--no-mqtt", "run no MQTT broker (clients follow jobs over the WebSocket or by polling)")
    .option(
      "--no-auth",
      "accept requests without credentials (local development only; binds to 127.0.0.1 unless --host is given)",
    )
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM; TLS 1.3 preferred, 1.2 minimum)")
    .option("--tls-key <file>", "the certificate's private key (PEM); needed with --tls-cert")
    .option("--tls-client-ca <file>", "CA bundle (PEM) that client certificates must be signed by")
    .option(
      "--require-client-cert",
      "with --tls-client-ca: refuse connections without a valid client certificate (mTLS)",
    )
    .option(
      "--cors-origin <list>",
      "origins browsers may call the API from, comma-separated; * for any (default: none)",
      parseCommaList,
    )
    .option(
      "--rate-limit <n>",
      "requests per minute per credential, counted by each replica; 0 turns the limit off (default 6000)",
      parseNonNegativeInteger,
    )
    .option("--json", "once listening, print one JSON line on stdout: url, MQTT, data dir, bootstrap file")
    .action(async (flags: ServerFlags) => {
      // Loaded here so client commands do not pay for the server's dependencies at startup.
      const { startServer, DataDirError } = await import("@gantry/server");
      const server = await startServer(serverOptions(flags, ctx)).catch((err: unknown) => {
        throw err instanceof DataDirError ? new StartupError(err.message) : err;
      });
      if (flags.auth === false)
        ctx.stderr(`\n  *** NO-AUTH MODE: anyone who can reach ${server.url} can submit and read jobs ***\n\n`);
      ctx.stderr(
        `Gantry server listening on ${server.url}\n` +
          `  MQTT:      ${server.mqtt.mode}${server.mqtt.tcpPort ? ` (TCP port ${server.mqtt.tcpPort})` : ""}\n` +
          `  data dir:  ${server.dataDir}\n` +
          `  bootstrap: ${server.bootstrapPath} (admin login, clientKey, agentKey)\n`,
      );
      if (flags.json) ctx.stdout(`${JSON.stringify(listening(server))}\n`);
      const signal = await shutdownSignal();
      ctx.stderr(`${signal}: shutting down\n`);
      await server.close();
    });
}

/** `--json`'s line: where a started server (or `gantry dev`'s) can be reached. No secrets. */
export function listening(server: {
  url: string;
  dataDir: string;
  bootstrapPath: string;
  mqtt: { mode: string; tcpPort?: number | undefined };
}) {
  return {
    event: "listening",
    url: server.url,
    mqtt: { mode: server.mqtt.mode, tcpPort: server.mqtt.tcpPort ?? null },
    dataDir: server.dataDir,
    bootstrapPath: server.bootstrapPath,
  };
}

/** Flags > environment > the server's own defaults. */
export function serverOptions(flags: ServerFlags, ctx: CliContext) {
  const env = ctx.env;
  const dataDir = flags.data ?? env.GANTRY_DATA_DIR;
  return {
    port: flags.port ?? env.GANTRY_PORT ?? 7070,
    // Without auth, only an explicit --host leaves loopback.
    host: flags.host ?? (flags.auth === false ? "127.0.0.1" : (env.GANTRY_HOST ?? "127.0.0.1")),
    dataDir: resolve(dataDir ?? ".gantry"),
    heartbeatIntervalSecs: flags.heartbeatInterval,
    leaseSecs: flags.lease,
    logLevel: flags.logLevel ?? env.GANTRY_LOG_LEVEL,
    maxFileBytes: flags.maxFileBytes,
    fileQuotaBytes: flags.fileQuotaBytes,
    fileGraceSecs: flags.fileGrace,
    retentionDays: flags.retentionDays ?? env.GANTRY_RETENTION_DAYS,
    auditRetentionDays: flags.auditRetentionDays ?? env.GANTRY_AUDIT_RETENTION_DAYS,
    mqtt: flags.mqtt,
    mqttPort: flags.mqttPort,
    mqttUrl: flags.mqttUrl,
    noAuth: flags.auth === false,
    db: flags.db ?? env.GANTRY_DB,
    blobDir: flags.blobDir ?? env.GANTRY_BLOB_DIR,
    replicaId: flags.replicaId,
    tls: tlsOptions(flags),
    corsOrigins: flags.corsOrigin,
    agentMtls: flags.agentMtls,
    rateLimit:
      flags.rateLimit === undefined
        ? undefined
        : flags.rateLimit === 0
          ? null
          : { max: flags.rateLimit, timeWindowMs: 60_000 },
  };
}

function tlsOptions(flags: ServerFlags) {
  if (!flags.tlsCert && !flags.tlsKey) {
    if (flags.agentMtls) throw new UsageError("--agent-mtls needs --tls-cert and --tls-key");
    if (flags.tlsClientCa || flags.requireClientCert)
      throw new UsageError("--tls-client-ca and --require-client-cert need --tls-cert and --tls-key");
    return undefined;
  }
  if (!flags.tlsCert || !flags.tlsKey) throw new UsageError("--tls-cert and --tls-key go together");
  if (flags.requireClientCert && !flags.tlsClientCa)
    throw new UsageError("--require-client-cert needs --tls-client-ca");
  return {
    certFile: resolve(flags.tlsCert),
    keyFile: resolve(flags.tlsKey),
    ...(flags.tlsClientCa ? { caFile: resolve(flags.tlsClientCa) } : {}),
    requireClientCert: Boolean(flags.requireClientCert),
  };
}
