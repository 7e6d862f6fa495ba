import {
  AgentMessagesRequest,
  AgentMessagesResponse,
  AuthAgentRequest,
  AuthAgentResponse,
  ErrorEnvelope,
  GantryError,
  NextJobsQuery,
  NextJobsResponse,
  PingResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  type ServerToAgent,
} from "@gantry/protocol";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { z } from "zod";
import { failureCode } from "../agents/agent-replies.ts";
import { handleInOrder } from "../agents/ordered-messages.ts";
import { PollAgentLink } from "../agents/poll-agent-link.ts";
import { bearerOf } from "../auth/principals.ts";
import type { GantryContext } from "../context.ts";
import { getOrCreate } from "../util/get-or-create.ts";
import { SerialQueue } from "../util/serial-queue.ts";

const errors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
  503: ErrorEnvelope,
  507: ErrorEnvelope,
};

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
    ctx.agents.enrolment.register(request.body);
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
    async (request) => ctx.agents.enrolment.authenticate(request.body.agentId, request.body.key),
  );

  const agentOf = async (request: FastifyRequest) =>
    (await ctx.agents.enrolment.verify(bearerOf(request.headers.authorization))).agent;

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
        response: { 200: NextJobsResponse, ...errors },
      },
    },
    async (request, reply) => {
      const agent = await agentOf(request);
      const link = pollLink(agent.id);
      const parked = link.park(request.query.max, request.query.wait * 1000);
      const gone = () => !reply.raw.writableFinished && (request.raw.destroyed || reply.raw.destroyed);
      reply.raw.on("close", () => {
        if (!reply.raw.writableFinished) link.cancelPark();
      });
      ctx.dispatcher.kickLink(link);
      const jobs = await parked;
      // The poll's client went away while it was parked: these jobs wait for the next poll.
      if (jobs.length > 0 && gone()) link.putBack(jobs);
      return { jobs };
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
      // One agent's POSTs are handled one after another, like the frames of a WebSocket.
      const queue = getOrCreate(queues, agent.id, () => new SerialQueue());
      try {
        return await queue.run(() => messages(agent, request.body.messages));
      } finally {
        if (queue.idle) queues.delete(agent.id);
      }
    },
  );

  const queues = new Map<string, SerialQueue>();
  const messages = async (
    agent: Awaited<ReturnType<typeof agentOf>>,
    all: z.output<typeof AgentMessagesRequest>["messages"],
  ): Promise<AgentMessagesResponse> => {
    const replies: ServerToAgent[] = [];
    let link = ctx.registry.get(agent.id);
    const hello = all.find((m) => m.type === "hello");
    const rest = all.filter((m) => m !== hello);
    if (hello) {
      if (link && link.transport === "ws") link.close(4000, "replaced by a polling connection");
      const poll = new PollAgentLink(agent.id);
      try {
        await ctx.agents.sessions.hello(agent, poll, hello);
      } catch (err) {
        if (err instanceof GantryError) throw err;
        app.log.error({ err }, "agent hello failed");
        throw new GantryError(failureCode(err));
      }
      link = poll;
    }
    if (!(link instanceof PollAgentLink) || !link.open) {
      throw new GantryError("agent_protocol_error", "Send a hello message first.");
    }
    const l = link;
    l.lastSeenAt = Date.now();
    replies.push(...l.takePending());
    await handleInOrder(
      rest,
      (m) => ctx.agents.messages.handle(agent.id, l, m),
      (r) => replies.push(...r),
    );
    replies.push(...l.takePending());
    return { replies };
  };
};
