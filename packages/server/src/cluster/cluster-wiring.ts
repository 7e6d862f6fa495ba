import type { AgentCertificateGuard } from "../agents/agent-cert-check.ts";
import type { AgentSessions } from "../agents/agent-sessions.ts";
import type { CommandService } from "../agents/command-service.ts";
import type { LiveStreams } from "../auth/live-streams.ts";
import type { Principals } from "../auth/principals.ts";
import type { AgentRegistry } from "../dispatch/agent-registry.ts";
import type { Dispatcher } from "../dispatch/dispatcher.ts";
import type { SlotKeeper } from "../dispatch/slot-keeper.ts";
import type { JobEvents } from "../events/job-events.ts";
import type { AgentOutbox } from "./agent-outbox.ts";
import type { ClusterBus } from "./cluster-bus.ts";

export interface ClusterWiringDeps {
  bus: ClusterBus;
  replicaId: string;
  events: JobEvents;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  outbox: AgentOutbox;
  sessions: AgentSessions;
  commands: CommandService;
  principals: Principals;
  streams: LiveStreams;
  /** With agentMtls: closes a revoked agent's TLS connections. */
  agentCerts?: AgentCertificateGuard | undefined;
  slots: SlotKeeper;
  onError: (err: unknown, msg: string) => void;
}

/**
 * What each bus message does on this replica: job events reach local watchers, agent messages and
 * commands reach the agent if its link is here, a newer session elsewhere retires the local link,
 * work hints wake local dispatch, revocations empty the local caches and re-check live connections.
 */
export function wireCluster(d: ClusterWiringDeps): () => void {
  return d.bus.subscribe((msg) => {
    switch (msg.kind) {
      case "job:event":
        d.events.deliver(msg.event);
        return;
      case "agent:send":
        d.outbox.deliverHere(msg.agentId, msg.messages);
        return;
      case "agent:command": {
        const link = d.registry.get(msg.agentId);
        if (link?.open && !link.superseded) {
          d.commands.deliverPending(link).catch((err) => d.onError(err, "delivering commands failed"));
        }
        return;
      }
      case "agent:session": {
        if (msg.replicaId === d.replicaId) return;
        const link = d.registry.get(msg.agentId);
        if (!link || link.session >= msg.session) return;
        // The agent has a newer link on another replica: this one must never be pushed to again.
        link.superseded = true;
        link.close(4000, "replaced by a newer connection on another server");
        d.sessions.disconnected(link).catch((err) => d.onError(err, "retiring a superseded link failed"));
        return;
      }
      case "slot:release":
      case "slot:hold":
        d.slots.fromCluster(msg);
        return;
      case "work":
        d.dispatcher.markWork(msg.capability, false);
        return;
      case "agent:revoked": {
        d.agentCerts?.revoked(msg.agentId);
        const link = d.registry.get(msg.agentId);
        if (!link) return;
        link.close(4403, "agent revoked");
        d.sessions.disconnected(link).catch((err) => d.onError(err, "disconnecting a revoked agent failed"));
        return;
      }
      case "apikey:revoked":
        d.principals.forgetKey(msg.hash);
        d.streams.recheck(msg.id);
        return;
      case "user:changed":
        // A logout names its one session; any other change may concern every session of the user.
        d.principals.forgetSessions(msg.sessionId);
        d.streams.recheck(msg.userId);
        return;
    }
  });
}
