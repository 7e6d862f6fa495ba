import type { Logger } from "pino";
import type { AgentCa } from "./agents/agent-ca.ts";
import { AgentCertificateGuard } from "./agents/agent-cert-check.ts";
import { AgentEnrolment } from "./agents/agent-enrolment.ts";
import { AgentHeartbeats } from "./agents/agent-heartbeat.ts";
import { AgentMessageRouter } from "./agents/agent-message-router.ts";
import { AgentSessions } from "./agents/agent-sessions.ts";
import { CommandService } from "./agents/command-service.ts";
import { LiveStreams } from "./auth/live-streams.ts";
import { KEY_CACHE, Principals } from "./auth/principals.ts";
import type { ServerKeys } from "./auth/server-keys.ts";
import { Tokens } from "./auth/tokens.ts";
import { AgentOutbox } from "./cluster/agent-outbox.ts";
import type { ClusterBus } from "./cluster/cluster-bus.ts";
import { wireCluster } from "./cluster/cluster-wiring.ts";
import type { GantryContext } from "./context.ts";
import { AgentRegistry } from "./dispatch/agent-registry.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { JobLifecycle } from "./dispatch/job-lifecycle.ts";
import { SlotKeeper } from "./dispatch/slot-keeper.ts";
import { JobEvents } from "./events/job-events.ts";
import type { BlobStore } from "./files/blob-store.ts";
import { FileService } from "./files/file-service.ts";
import type { ResolvedServerOptions } from "./server-options.ts";
import type { Store } from "./store/store.ts";

/** What the components are built from: made (and opened) before them. */
export interface ContextParts {
  opts: ResolvedServerOptions;
  log: Logger;
  store: Store;
  keys: ServerKeys;
  blobs: BlobStore;
  version: string;
  /** How replicas reach each other (LocalClusterBus for one server). */
  bus: ClusterBus;
  replicaId: string;
  /** The agent CA, with `agentMtls`. */
  agentCa?: AgentCa | undefined;
}

/**
 * Builds the server's components in dependency order: each is constructed from ones already built,
 * and the one cycle (dispatch reports orphaned and pushed jobs, which the lifecycle handles) is an
 * event subscription made once both exist.
 */
export function buildContext({
  opts,
  log,
  store,
  keys,
  blobs,
  version,
  bus,
  replicaId,
  agentCa,
}: ContextParts): GantryContext {
  const report = (msg: string) => (err: unknown) => log.error({ err }, msg);
  const leaseMs = opts.leaseSecs * 1000;
  const tokens = new Tokens(keys, opts.tokenTtlSecs);
  const events = new JobEvents();
  events.onListenerError = report("event listener failed");
  events.relay = (event) => bus.publish({ kind: "job:event", event });
  const registry = new AgentRegistry();
  const outbox = new AgentOutbox(registry, bus);
  const dispatcher = new Dispatcher({
    store,
    registry,
    leaseMs,
    // Less than a lease, so a job whose lease lapsed is not handed straight back to the silent agent.
    stalledMs: Math.min(2 * opts.heartbeatIntervalSecs * 1000, leaseMs / 2),
    announceWork: (capability) => bus.publish({ kind: "work", capability }),
    onError: report("dispatch failed"),
  });
  const slots = new SlotKeeper({ registry, dispatcher, leaseMs, bus });
  const lifecycle = new JobLifecycle({ store, events, registry, dispatcher, slots, outbox });
  dispatcher.events.on("dispatch:jobs:assigned", (jobs) => lifecycle.assigned(jobs));
  dispatcher.events.on("dispatch:jobs:orphaned", (jobs) => {
    lifecycle.orphaned(jobs).catch(report("requeueing orphaned jobs failed"));
  });
  const commands = new CommandService({ store, keys, registry, dispatcher, maxTier: opts.maxTier, bus });
  const sessions = new AgentSessions({
    store,
    registry,
    dispatcher,
    lifecycle,
    commands,
    options: opts,
    bus,
    replicaId,
  });
  const principals = new Principals(store, tokens, KEY_CACHE, { noAuth: opts.noAuth });
  const agentCerts = agentCa ? new AgentCertificateGuard({ store, caCertPem: agentCa.certPem }) : undefined;
  const streams = new LiveStreams(principals, {
    recheckMs: opts.credentialRecheckMs,
    maxPerCredential: opts.maxStreamsPerCredential,
  });
  const heartbeats = new AgentHeartbeats({ store, dispatcher, lifecycle, slots, options: opts });
  const messages = new AgentMessageRouter({
    store,
    tokens,
    lifecycle,
    heartbeats,
    sessions,
    commands,
    onError: (err, msg) => log.error({ err }, msg),
  });
  wireCluster({
    bus,
    replicaId,
    events,
    registry,
    dispatcher,
    outbox,
    sessions,
    commands,
    principals,
    streams,
    agentCerts,
    slots,
    onError: (err, msg) => log.error({ err }, msg),
  });
  return {
    agentCa,
    agentCerts,
    options: opts,
    log,
    store,
    events,
    registry,
    dispatcher,
    lifecycle,
    slots,
    agents: { enrolment: new AgentEnrolment({ store, tokens, keys, options: opts, agentCa }), sessions, messages },
    commands,
    principals,
    bus,
    replicaId,
    streams,
    tokens,
    files: new FileService(store, blobs, { maxFileBytes: opts.maxFileBytes, quotaBytes: opts.fileQuotaBytes }),
    version,
  };
}
