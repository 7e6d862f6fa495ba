import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { AgentCa } from "./agents/agent-ca.ts";
import { buildApp, type ServedRoute } from "./app.ts";
import { loadServerKeys } from "./auth/server-keys.ts";
import { type Bootstrap, bootstrapPath, ensureBootstrap } from "./bootstrap.ts";
import { buildContext } from "./build-context.ts";
import { openClusterBus } from "./cluster/open-cluster-bus.ts";
import { inDataDir, prepareDataDir } from "./data-dir.ts";
import { Sweeper } from "./dispatch/sweeper.ts";
import { BlobSweeper } from "./files/blob-sweeper.ts";
import { LocalBlobStore } from "./files/local-blob-store.ts";
import { startHousekeeping } from "./housekeeping/housekeeping.ts";
import type { MqttStatus } from "./mqtt/mqtt-plugin.ts";
import { createServerLogger } from "./server-logger.ts";
import { resolveServerOptions, type ServerOptions } from "./server-options.ts";
import { openStore } from "./store/open-store.ts";

export const VERSION = "0.1.0";

export interface GantryServer {
  url: string;
  port: number;
  dataDir: string;
  bootstrapPath: string;
  /** The first-start credentials, while bootstrap.json exists. */
  bootstrap: Bootstrap;
  /** MQTT: embedded, external or off; the embedded broker's TCP port when one was asked for. */
  mqtt: MqttStatus;
  /** Every route served (method, URL pattern, WebSocket or not). */
  routes: readonly ServedRoute[];
  close(): Promise<void>;
}

/**
 * Starts a Gantry server on the embedded store, in this order: options, logger, data dir, store,
 * keys and blobs, the components (buildContext), first-start credentials, the HTTP app, the lease
 * grace after a restart, the sweepers, then listening and the first dispatch.
 */
export async function startServer(options: ServerOptions = {}): Promise<GantryServer> {
  const opts = resolveServerOptions(options);
  const log = createServerLogger(opts.logLevel);
  const report = (err: unknown, msg: string) => log.error({ err }, msg);
  const dataDir = resolve(opts.dataDir);
  prepareDataDir(dataDir);
  const store = await inDataDir(dataDir, () => openStore(opts.db, join(dataDir, "gantry.db")));
  // Host and port name a replica across its restarts; a free port (0) is new each time, so the pid.
  const replicaId = opts.replicaId || (opts.db ? `${hostname()}:${opts.port || `pid${process.pid}`}` : "embedded");
  const keys = await inDataDir(dataDir, () => loadServerKeys(dataDir));
  // Replicas share files through one directory every replica mounts (--blob-dir; docs/scale-out.md).
  const blobs = new LocalBlobStore(opts.blobDir ? resolve(opts.blobDir) : join(dataDir, "blobs"));
  await blobs.init();
  const bus = await openClusterBus(opts.db, (err) => report(err, "cluster bus failed"));
  if (opts.agentMtls && !opts.tls) throw new Error("agentMtls needs tls (--tls-cert and --tls-key).");
  const agentCa = opts.agentMtls ? await inDataDir(dataDir, () => AgentCa.load(dataDir)) : undefined;
  const ctx = buildContext({ opts, log, store, keys, blobs, version: VERSION, bus, replicaId, agentCa });
  const bootstrap = await inDataDir(dataDir, () => ensureBootstrap(store, dataDir));
  const mqtt: MqttStatus = { mode: "off", connectedClients: () => 0 };
  const app = await buildApp(ctx, mqtt);
  if (opts.noAuth)
    log.warn(
      { host: opts.host },
      "NO-AUTH MODE: every request without credentials is accepted as the anonymous client. Never expose this server.",
    );

  // After a restart of the whole service, give agents one lease period to reconnect before their
  // jobs count as lost; a replica restarting among live ones extends nothing (Store.replicaAlive).
  const leaseMs = opts.leaseSecs * 1000;
  const aliveWithinMs = Math.max(5 * opts.sweepIntervalMs, 2000);
  await store.replicaAlive(replicaId, Date.now(), aliveWithinMs, { leaseExpiresAt: Date.now() + leaseMs });
  const sweeper = new Sweeper({
    store,
    lifecycle: ctx.lifecycle,
    slots: ctx.slots,
    registry: ctx.registry,
    dispatcher: ctx.dispatcher,
    intervalMs: opts.sweepIntervalMs,
    replicaId,
    aliveWithinMs,
    // Often enough that a live replica never looks dead (aliveWithinMs), rarely enough to cost nothing.
    aliveEveryMs: opts.db ? Math.min(opts.sweepIntervalMs, aliveWithinMs / 4) : null,
    silenceMs: Math.max(3 * opts.heartbeatIntervalSecs * 1000, leaseMs),
    onDisconnect: (link) => {
      link.close(4401, "silent or token expired");
      ctx.agents.sessions.disconnected(link).catch((err) => report(err, "agent disconnect failed"));
    },
    onError: (err) => report(err, "sweep failed"),
  });
  const blobSweeper = new BlobSweeper({
    store,
    blobs,
    graceMs: opts.fileGraceSecs * 1000,
    intervalMs: opts.fileSweepIntervalMs,
    onError: (err) => report(err, "blob sweep failed"),
  });
  await app.listen({ port: opts.port, host: opts.host });
  sweeper.start();
  blobSweeper.start();
  const housekeeping = startHousekeeping({ store, dispatcher: ctx.dispatcher, options: opts, log: report });
  for (const cap of await store.queuedCapabilities()) ctx.dispatcher.markWork(cap);
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `${opts.tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    dataDir,
    routes: app.gantryRoutes,
    bootstrapPath: bootstrapPath(dataDir),
    bootstrap: bootstrap as Bootstrap,
    mqtt,
    close: async () => {
      await sweeper.stop();
      blobSweeper.stop();
      housekeeping.stop();
      ctx.lifecycle.stop();
      // Out of the registry first, so close handlers find nothing to requeue in a closing store.
      for (const link of [...ctx.registry.all()]) {
        ctx.registry.remove(link);
        link.close(1001, "server shutting down");
      }
      await app.close();
      await bus.close();
      await store.barrier();
      await store.close();
    },
  };
}
