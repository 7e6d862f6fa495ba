import type { Logger } from "pino";
import type { AgentCa } from "./agents/agent-ca.ts";
import type { AgentCertificateGuard } from "./agents/agent-cert-check.ts";
import type { AgentEnrolment } from "./agents/agent-enrolment.ts";
import type { AgentMessageRouter } from "./agents/agent-message-router.ts";
import type { AgentSessions } from "./agents/agent-sessions.ts";
import type { CommandService } from "./agents/command-service.ts";
import type { LiveStreams } from "./auth/live-streams.ts";
import type { Principals } from "./auth/principals.ts";
import type { Tokens } from "./auth/tokens.ts";
import type { ClusterBus } from "./cluster/cluster-bus.ts";
import type { AgentRegistry } from "./dispatch/agent-registry.ts";
import type { Dispatcher } from "./dispatch/dispatcher.ts";
import type { JobLifecycle } from "./dispatch/job-lifecycle.ts";
import type { SlotKeeper } from "./dispatch/slot-keeper.ts";
import type { JobEvents } from "./events/job-events.ts";
import type { FileService } from "./files/file-service.ts";
import type { ResolvedServerOptions } from "./server-options.ts";
import type { Store } from "./store/store.ts";

/** The agents' side of the server, by role. */
export interface AgentServices {
  /** Registration, the key-for-JWT trade, token checks. */
  enrolment: AgentEnrolment;
  /** hello and disconnect: a link's life in the dispatch index. */
  sessions: AgentSessions;
  /** Every message after hello. */
  messages: AgentMessageRouter;
}

/** Everything route plugins need, built once per server and passed to each plugin (no singletons). */
export interface GantryContext {
  options: ResolvedServerOptions;
  log: Logger;
  store: Store;
  events: JobEvents;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  lifecycle: JobLifecycle;
  slots: SlotKeeper;
  agents: AgentServices;
  commands: CommandService;
  principals: Principals;
  /** The server's CA for agent client certificates (`agentMtls`), else undefined. */
  agentCa: AgentCa | undefined;
  /** With `agentMtls`: refuses connections presenting a revoked agent's certificate. */
  agentCerts: AgentCertificateGuard | undefined;
  /** Open client streams per credential; re-checks their credentials while they stay open. */
  streams: LiveStreams;
  tokens: Tokens;
  files: FileService;
  version: string;
  /** How replicas reach each other; LocalClusterBus for one server. */
  bus: ClusterBus;
  /** This server among the replicas sharing the store. */
  replicaId: string;
}
