import {
  AgentIdParams,
  type AgentView,
  CommandView,
  ErrorEnvelope,
  GantryError,
  ListAgentsResponse,
  ListCommandsResponse,
  SendCommandRequest,
} from "@gantry/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { commandView } from "../agents/command-service.ts";
import { linkHere, onlineElsewhere } from "../agents/online-agents.ts";
import { audit } from "../audit/audit-log.ts";
import { principalOf, requireScope } from "../auth/require-scope.ts";
import type { GantryContext } from "../context.ts";
import type { AgentRecord } from "../store/store.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The fleet as clients see it, and revocation for admins. */
export const agentsAdminRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const view = async (a: AgentRecord): Promise<AgentView> => {
    const link = linkHere(ctx, a.id);
    const held = await ctx.store.heldJobs(a.id);
    // Connected to another replica: what the store says (its session, the last persisted heartbeat).
    const s = a.session;
    if (s && onlineElsewhere(ctx, a)) {
      return {
        id: a.id,
        name: a.name,
        displayName: a.displayName,
        capabilities: a.capabilities,
        tier: a.tier,
        capacity: a.capacity,
        online: true,
        status: a.status,
        transport: s.transport,
        runningJobs: held.map((j) => j.id),
        systemInfo: a.systemInfo,
        metrics: a.metrics,
        health: a.health,
        registeredAt: iso(a.registeredAt)!,
        lastSeenAt: iso(a.lastSeenAt),
        revokedAt: iso(a.revokedAt),
      };
    }
    return {
      id: a.id,
      name: a.name,
      displayName: a.displayName,
      capabilities: a.capabilities,
      tier: a.tier,
      capacity: a.capacity,
      online: link?.open ?? false,
      status: link?.open ? (link.heartbeat?.status ?? a.status) : null,
      transport: link?.open ? link.transport : null,
      runningJobs: held.map((j) => j.id),
      systemInfo: a.systemInfo,
      metrics: link?.heartbeat?.metrics ?? a.metrics,
      health: link?.heartbeat?.health ?? a.health,
      registeredAt: iso(a.registeredAt)!,
      lastSeenAt: iso(link?.heartbeat?.lastSeenAt ?? a.lastSeenAt),
      revokedAt: iso(a.revokedAt),
    };
  };

  app.get(
    "/v1/agents",
    {
      preHandler: requireScope(ctx.principals, "agents:read"),
      schema: {
        summary: "List agents with capabilities, tier, capacity and latest heartbeat",
        response: { 200: ListAgentsResponse, ...errors },
      },
    },
    async () => {
      await ctx.store.barrier();
      return { agents: await Promise.all((await ctx.store.listAgents()).map(view)) };
    },
  );

  app.post(
    "/v1/agents/:id/commands",
    {
      preHandler: requireScope(ctx.principals, "agents:manage"),
      schema: {
        summary: "Send a signed command (drain, resume, update, rescan, diagnostics, restart) to an agent",
        params: AgentIdParams,
        body: SendCommandRequest,
        response: { 201: CommandView, ...errors },
      },
    },
    async (request, reply) => {
      const command = await ctx.commands.send(request.params.id, request.body);
      await audit(ctx.store, {
        actor: principalOf(request).id,
        action: "command.send",
        target: request.params.id,
        details: { commandId: command.id, type: command.type },
      });
      return reply.status(201).send(commandView(command));
    },
  );

  app.get(
    "/v1/agents/:id/commands",
    {
      preHandler: requireScope(ctx.principals, "agents:manage"),
      schema: {
        summary: "Recent commands sent to an agent and their outcomes",
        params: AgentIdParams,
        response: { 200: ListCommandsResponse, ...errors },
      },
    },
    async (request) => {
      await ctx.store.barrier();
      if (!(await ctx.store.getAgent(request.params.id))) throw new GantryError("agent_not_found");
      return { commands: await ctx.commands.list(request.params.id) };
    },
  );

  app.post(
    "/v1/agents/:id/revoke",
    {
      preHandler: requireScope(ctx.principals, "agents:manage"),
      schema: { summary: "Revoke an agent: it is disconnected and can no longer authenticate", params: AgentIdParams },
    },
    async (request) => {
      const agent = await ctx.store.revokeAgent(request.params.id, Date.now());
      if (!agent) throw new GantryError("agent_not_found");
      await audit(ctx.store, { actor: principalOf(request).id, action: "agent.revoke", target: agent.id });
      const link = ctx.registry.get(agent.id);
      if (link) {
        link.close(4403, "agent revoked");
        await ctx.agents.sessions.disconnected(link);
      }
      // Its link may be on another replica.
      ctx.bus.publish({ kind: "agent:revoked", agentId: agent.id });
      return view(agent);
    },
  );
};
