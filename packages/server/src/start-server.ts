import { join, resolve } from "node:path";
import { AgentService } from "./agents/agent-service.ts";
import { CommandService } from "./agents/command-service.ts";
import { buildApp } from "./app.ts";
import { Principals } from "./auth/principals.ts";
import { loadServerKeys } from "./auth/server-keys.ts";
import { Tokens } from "./auth/tokens.ts";
import { type Bootstrap, bootstrapPath, ensureBootstrap } from "./bootstrap.ts";
import type { GantryContext } from "./context.ts";
import { inDataDir, prepareDataDir } from "./data-dir.ts";
import { AgentRegistry } from "./dispatch/agent-registry.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { JobLifecycle } from "./dispatch/job-lifecycle.ts";
import { Sweeper } from "./dispatch/sweeper.ts";
import { JobEvents } from "./events/job-events.ts";
import { BlobSweeper } from "./files/blob-sweeper.ts";
import { FileService } from "./files/file-service.ts";
import { LocalBlobStore } from "./files/local-blob-store.ts";
import { startHousekeeping } from "./housekeeping/housekeeping.ts";
import { resolveServerOptions, type ServerOptions } from "./server-options.ts";
import { openSqliteStore } from "./store/sqlite/sqlite-store.ts";

export const VERSION = "0.1.0";

export interface GantryServer {
  url: string;
  port: number;
  dataDir: string;
  bootstrapPath: string;
  /** The first-start credentials, while bootstrap.json exists. */
  bootstrap: Bootstrap;
  close(): Promise<void>;
}

/** Starts a Gantry server on the embedded store. */
export async function startServer(options: ServerOptions = {}): Promise<GantryServer> {
  const opts = resolveServerOptions(options);
  const dataDir = resolve(opts.dataDir);
  prepareDataDir(dataDir);
  const store = await inDataDir(dataDir, () => openSqliteStore(join(dataDir, "gantry.db")));
  const keys = await inDataDir(dataDir, () => loadServerKeys(dataDir));
  const tokens = new Tokens(keys, opts.tokenTtlSecs);
  const events = new JobEvents();
  const registry = new AgentRegistry();
  const leaseMs = opts.leaseSecs * 1000;
  let log: (err: unknown, msg: string) => void = (err, msg) => console.error(msg, err);
  // The lifecycle and dispatcher need each other: the dispatcher reports orphans to the lifecycle.
  let lifecycle: JobLifecycle | undefined;
  const dispatcher = new Dispatcher({
    store,
    registry,
    leaseMs,
    // Less than a lease, so a job whose lease lapsed is not handed straight back to the silent agent.
    stalledMs: Math.min(2 * opts.heartbeatIntervalSecs * 1000, leaseMs / 2),
    onOrphaned: (jobs) => {
      for (const j of jobs) void lifecycle?.releaseUnstarted(j.agentId!, [j], "agent left before the push");
    },
    onAssigned: (jobs) => {
      for (const j of jobs)
        events.emit({ type: "status", jobId: j.id, status: j.status, epoch: j.epoch, at: new Date().toISOString() });
    },
    onError: (err) => log(err, "dispatch failed"),
  });
  lifecycle = new JobLifecycle({ store, events, registry, dispatcher, onError: (err) => log(err, "lifecycle failed") });
  const commands = new CommandService({ store, keys, registry, dispatcher, maxTier: opts.maxTier });
  const agents = new AgentService({ store, tokens, keys, registry, dispatcher, lifecycle, options: opts, commands });
  const blobs = new LocalBlobStore(join(dataDir, "blobs"));
  await blobs.init();
  const files = new FileService(store, blobs, { maxFileBytes: opts.maxFileBytes, quotaBytes: opts.fileQuotaBytes });
  const ctx: GantryContext = {
    options: opts,
    store,
    events,
    registry,
    dispatcher,
    lifecycle,
    agents,
    commands,
    principals: new Principals(store, tokens),
    tokens,
    files,
    version: VERSION,
  };
  const bootstrap = await inDataDir(dataDir, () => ensureBootstrap(store, dataDir));
  const app = await buildApp(ctx);
  log = (err, msg) => app.log.error({ err }, msg);
  events.onListenerError = (err) => log(err, "event listener failed");

  // After a restart, give agents one lease period to reconnect before their jobs count as lost.
  await store.extendAllLeases(Date.now() + leaseMs);
  const sweeper = new Sweeper({
    store,
    lifecycle,
    registry,
    dispatcher,
    intervalMs: opts.sweepIntervalMs,
    silenceMs: Math.max(3 * opts.heartbeatIntervalSecs * 1000, leaseMs),
    onDisconnect: (link) => {
      link.close(4401, "silent or token expired");
      void agents.disconnected(link);
    },
    onError: (err) => log(err, "sweep failed"),
  });
  const blobSweeper = new BlobSweeper({
    store,
    blobs,
    graceMs: opts.fileGraceSecs * 1000,
    intervalMs: opts.fileSweepIntervalMs,
    onError: (err) => log(err, "blob sweep failed"),
  });
  await app.listen({ port: opts.port, host: opts.host });
  sweeper.start();
  blobSweeper.start();
  const housekeeping = startHousekeeping({ store, dispatcher, options: opts, log });
  for (const cap of await store.queuedCapabilities()) dispatcher.markWork(cap);
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : opts.port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `${opts.tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    port,
    dataDir,
    bootstrapPath: bootstrapPath(dataDir),
    bootstrap: bootstrap as Bootstrap,
    close: async () => {
      sweeper.stop();
      blobSweeper.stop();
      housekeeping.stop();
      lifecycle?.stop();
      // Out of the registry first, so close handlers find nothing to requeue in a closing store.
      for (const link of [...registry.all()]) {
        registry.remove(link);
        link.close(1001, "server shutting down");
      }
      await app.close();
      await store.barrier();
      await store.close();
    },
  };
}
