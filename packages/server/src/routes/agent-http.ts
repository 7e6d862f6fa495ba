import {
  AgentMessagesRequest,
  AgentMessagesResponse,
  AssignedJob,
  AuthAgentRequest,
  AuthAgentResponse,
  ErrorEnvelope,
  GantryError,
  NextJobsQuery,
  PingResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  type ServerToAgent,
} from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { nack } from "../agents/agent-service.ts";
import { PollAgentLink } from "../agents/poll-agent-link.ts";
import { bearerOf } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";

const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope };

/**
 * The agent protocol over plain HTTP: the seed's register → auth → ping flow, and the long-poll
 * fallback (`jobs/next` + `messages`) for agents that cannot hold a WebSocket.
 */
export const agentHttpRoutes: FastifyPluginAsyncZod<{ ctx: GantryContext }> = async (app, { ctx }) => {
  const register = {
    schema: {
      summary: "Register an agent with an enrolment key",
      tags: ["agent"],
      body: RegisterAgentRequest,
      response: { 200: RegisterAgentResponse, ...errors },
    },
  };
  const registerHandler = async (request: { body: z.output<typeof RegisterAgentRequest> }) =>
    ctx.agents.register(request.body);
  app.post("/agent/register", register, registerHandler);
  app.post("/agents", register, registerHandler);

  app.post(
    "/agent/auth",
    {
      schema: {
        summary: "Trade the agent key for a short-lived JWT",
        tags: ["agent"],
        body: AuthAgentRequest,
        response: { 200: AuthAgentResponse, ...errors },
      },
    },
    async (request) => ctx.agents.authenticate(request.body.agentId, request.body.key),
  );

  const agentOf = async (request: FastifyRequest) =>
    (await ctx.agents.verify(bearerOf(request.headers.authorization))).agent;

  app.get(
    "/private/agent/ping",
    { schema: { summary: "Check an agent token", tags: ["agent"], response: { 200: PingResponse, ...errors } } },
    async (request) => {
      await agentOf(request);
      return { status: "ok" as const };
    },
  );

  const pollLink = (agentId: string): PollAgentLink => {
    const link = ctx.registry.get(agentId);
    if (link instanceof PollAgentLink && link.open) return link;
    throw new GantryError("agent_protocol_error", "Send a hello message to POST /v1/agent/messages first.");
  };

  app.get(
    "/v1/agent/jobs/next",
    {
      schema: {
        summary: "Long-poll for jobs (fallback transport)",
        tags: ["agent"],
        querystring: NextJobsQuery,
        response: { 200: z.object({ jobs: z.array(AssignedJob) }), ...errors },
      },
    },
    async (request, reply) => {
      const agent = await agentOf(request);
      const link = pollLink(agent.id);
      const parked = link.park(request.query.max, request.query.wait * 1000);
      reply.raw.on("close", () => {
        if (!reply.raw.writableFinished) link.cancelPark();
      });
      ctx.dispatcher.kickLink(link);
      return { jobs: await parked };
    },
  );

  app.post(
    "/v1/agent/messages",
    {
      schema: {
        summary: "Send agent messages (fallback transport); replies carry acks and pending cancels",
        tags: ["agent"],
        body: AgentMessagesRequest,
        response: { 200: AgentMessagesResponse, ...errors },
      },
    },
    async (request) => {
      const agent = await agentOf(request);
      const replies: ServerToAgent[] = [];
      let link = ctx.registry.get(agent.id);
      const rest = request.body.messages.filter((m) => m.type !== "hello");
      const hello = request.body.messages.find((m) => m.type === "hello");
      if (hello) {
        if (link && link.transport === "ws") link.close(4000, "replaced by a polling connection");
        const poll = new PollAgentLink(agent.id);
        replies.push(await ctx.agents.hello(agent, poll, hello));
        link = poll;
      }
      if (!(link instanceof PollAgentLink) || !link.open) {
        throw new GantryError("agent_protocol_error", "Send a hello message first.");
      }
      link.lastSeenAt = Date.now();
      const results = await Promise.all(
        rest.map((m) =>
          ctx.agents.handle(agent.id, link, m).catch(() => ("ref" in m ? [nack(m.ref, "agent_protocol_error")] : [])),
        ),
      );
      for (const r of results) replies.push(...r);
      replies.push(...link.takePending());
      return { replies };
    },
  );
};
