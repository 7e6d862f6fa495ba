import type { AgentToServer, ServerToAgent } from "@gantry/protocol";
import { AGENT_AUDIENCE, type Tokens } from "../auth/tokens.ts";
import type { AgentLink } from "../dispatch/agent-link.ts";
import type { JobLifecycle } from "../dispatch/job-lifecycle.ts";
import type { Store } from "../store/store.ts";
import type { AgentHeartbeats } from "./agent-heartbeat.ts";
import { failureCode, fenceReply, nack, protocolError } from "./agent-replies.ts";
import type { AgentSessions } from "./agent-sessions.ts";
import type { CommandService } from "./command-service.ts";

export interface AgentMessageRouterDeps {
  store: Store;
  tokens: Tokens;
  lifecycle: JobLifecycle;
  heartbeats: AgentHeartbeats;
  sessions: AgentSessions;
  commands: CommandService;
  onError: (err: unknown, msg: string) => void;
}

/** Routes one post-hello agent message to what handles it; returns the replies to send (after the commit). */
export class AgentMessageRouter {
  readonly #d: AgentMessageRouterDeps;

  constructor(deps: AgentMessageRouterDeps) {
    this.#d = deps;
  }

  /** Never throws: a failure is answered (nack for a ref'd message, an error frame otherwise). */
  async handle(agentId: string, link: AgentLink | undefined, msg: AgentToServer): Promise<ServerToAgent[]> {
    try {
      return await this.#route(agentId, link, msg);
    } catch (err) {
      const code = failureCode(err);
      if (code === "storage_full" || code === "unavailable") this.#d.onError(err, "agent message failed");
      const message = err instanceof Error && code !== "unavailable" ? err.message : undefined;
      return "ref" in msg ? [nack(msg.ref, code, message)] : [];
    }
  }

  async #route(agentId: string, link: AgentLink | undefined, msg: AgentToServer): Promise<ServerToAgent[]> {
    const l = this.#d.lifecycle;
    switch (msg.type) {
      case "hello":
        return [protocolError("hello is only valid as the first message")];
      case "heartbeat":
        return this.#d.heartbeats.beat(agentId, link, msg);
      case "capabilities":
        await this.#d.sessions.capabilitiesChanged(agentId, link, msg.capabilities);
        return [];
      case "job:started":
        return fenceReply(msg.ref, await l.started(agentId, msg.jobId, msg.epoch));
      case "job:progress":
        return fenceReply(msg.ref, await l.progress(agentId, msg.jobId, msg.epoch, msg.progress));
      case "job:tokens":
        return fenceReply(msg.ref, await l.tokens(agentId, msg.jobId, msg.epoch, msg.seq, msg.text));
      case "job:log":
        return fenceReply(msg.ref, await l.log(agentId, msg.jobId, msg.epoch, msg.lines));
      case "job:completed":
        return fenceReply(msg.ref, await l.completed(agentId, msg.jobId, msg.epoch, msg.output, msg.outputFiles ?? []));
      case "job:failed":
        return fenceReply(msg.ref, await l.failed(agentId, msg.jobId, msg.epoch, msg.error));
      case "job:cancelled":
        return fenceReply(msg.ref, await l.cancelled(agentId, msg.jobId, msg.epoch));
      case "job:rejected":
        return fenceReply(msg.ref, await l.rejected(agentId, msg.jobId, msg.epoch, msg.reason));
      case "token:refresh": {
        const expiresIn = this.#d.tokens.expiry();
        const token = await this.#d.tokens.signUntil(agentId, AGENT_AUDIENCE, ["agent"], expiresIn);
        return [
          { type: "token", token, expiresIn },
          { type: "ack", ref: msg.ref },
        ];
      }
      case "command:result": {
        await this.#d.commands.result(agentId, msg);
        return [{ type: "ack", ref: msg.ref }];
      }
      case "deregister": {
        if (link) await this.#d.sessions.disconnected(link);
        await this.#d.store.updateAgentState(agentId, { status: null, lastSeenAt: Date.now() });
        return [{ type: "ack", ref: msg.ref }];
      }
    }
  }
}
