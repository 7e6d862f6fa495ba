import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AgentMessagesRequest,
  AuthAgentRequest,
  ChangePasswordRequest,
  ChatCompletionRequest,
  CompletionRequest,
  CreateApiKeyRequest,
  CreateUserRequest,
  EmbeddingRequest,
  ERROR_CODES,
  ErrorEnvelope,
  JobLogsQuery,
  ListJobsQuery,
  LoginRequest,
  NextJobsQuery,
  OpenAiErrorBody,
  PageQuery,
  RefreshRequest,
  RegisterAgentRequest,
  SendCommandRequest,
  SubmitJobRequest,
  SubmitJobsBatchRequest,
  UpdateUserRequest,
} from "@gantry/protocol";
import fc from "fast-check";
import type { z } from "zod";
import { Api } from "./helpers/api.ts";
import { post, type RawAgent } from "./helpers/raw-agent.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * Property: for every request schema, any JSON that does not match it gets a 4xx in the one error
 * envelope, and nothing in the store changes. The JSON-body routes are taken from the server's
 * OpenAPI document, so a new body route without a schema here fails.
 */
type Cred = "admin" | "agent" | "none";
interface Target {
  schema: z.ZodType;
  cred: Cred;
  /** The concrete path (route params filled in). */
  path?: string;
  /** The OpenAI-compatible routes answer in OpenAI's error shape instead of the envelope. */
  openai?: boolean;
}
const BODIES: Record<string, Target> = {
  "POST /v1/auth/login": { schema: LoginRequest, cred: "none" },
  "POST /v1/auth/refresh": { schema: RefreshRequest, cred: "none" },
  "POST /v1/auth/password": { schema: ChangePasswordRequest, cred: "admin" },
  "POST /v1/jobs": { schema: SubmitJobRequest, cred: "admin" },
  "POST /v1/jobs/batch": { schema: SubmitJobsBatchRequest, cred: "admin" },
  "POST /agent/register": { schema: RegisterAgentRequest, cred: "none" },
  "POST /agents": { schema: RegisterAgentRequest, cred: "none" },
  "POST /agent/auth": { schema: AuthAgentRequest, cred: "none" },
  "POST /v1/agent/messages": { schema: AgentMessagesRequest, cred: "agent" },
  "POST /v1/agents/{id}/commands": { schema: SendCommandRequest, cred: "admin" },
  "POST /v1/users": { schema: CreateUserRequest, cred: "admin" },
  "PATCH /v1/users/{id}": { schema: UpdateUserRequest, cred: "admin" },
  "POST /v1/keys": { schema: CreateApiKeyRequest, cred: "admin" },
  "POST /v1/chat/completions": { schema: ChatCompletionRequest, cred: "admin", openai: true },
  "POST /v1/completions": { schema: CompletionRequest, cred: "admin", openai: true },
  "POST /v1/embeddings": { schema: EmbeddingRequest, cred: "admin", openai: true },
};
const QUERIES: Record<string, Target> = {
  "GET /v1/jobs": { schema: ListJobsQuery, cred: "admin" },
  "GET /v1/jobs/{id}/logs": { schema: JobLogsQuery, cred: "admin" },
  "GET /v1/agent/jobs/next": { schema: NextJobsQuery, cred: "agent" },
  "GET /v1/users": { schema: PageQuery, cred: "admin" },
  "GET /v1/keys": { schema: PageQuery, cred: "admin" },
  "GET /v1/audit": { schema: PageQuery, cred: "admin" },
};

let t: TestServer;
let admin: Api;
let agent: RawAgent;
let ids: { job: string; user: string; agent: string };
before(async () => {
  t = await testServer();
  const login = await post(`${t.server.url}/v1/auth/login`, {
    username: "admin",
    password: t.server.bootstrap.adminPassword,
  });
  admin = new Api(t.server.url, login.body.accessToken);
  agent = await t.agent();
  const job = await admin.submit({ capability: "prop.cap" });
  const user = await admin.call("POST", "/v1/users", { username: "prop", password: "prop-password-12" });
  ids = { job: job.id, user: user.body.id, agent: agent.agentId };
});
after(() => t.close());

const fill = (path: string) =>
  path
    .replace("/v1/jobs/{id}", `/v1/jobs/${ids.job}`)
    .replace("/v1/users/{id}", `/v1/users/${ids.user}`)
    .replace("/v1/agents/{id}", `/v1/agents/${ids.agent}`);

type Res = { status: number; body: any };
async function state(): Promise<string> {
  const [jobs, users, keys, agents, audit] = (await Promise.all(
    ["/v1/jobs?limit=500", "/v1/users?limit=200", "/v1/keys?limit=200", "/v1/agents", "/v1/audit?limit=200"].map((p) =>
      admin.call("GET", p),
    ),
  )) as [Res, Res, Res, Res, Res];
  return JSON.stringify([
    jobs.body.jobs.map((j: { id: string; status: string }) => [j.id, j.status]),
    users.body.users,
    keys.body.keys.map((k: { id: string; revokedAt: string | null }) => [k.id, k.revokedAt]),
    agents.body.agents.map((a: { id: string; revokedAt?: string | null }) => [a.id, a.revokedAt]),
    audit.body.events.length,
  ]);
}

async function send(method: string, path: string, cred: Cred, body?: string) {
  const headers: Record<string, string> = {};
  if (cred === "admin") headers.authorization = `Bearer ${admin.key}`;
  if (cred === "agent") headers.authorization = `Bearer ${agent.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(t.server.url + path, { method, headers, body });
  const text = await r.text();
  return { status: r.status, text };
}

function assertEnvelope(where: string, r: { status: number; text: string }, openai = false) {
  assert.ok(r.status >= 400 && r.status < 500, `${where}: ${r.status} ${r.text.slice(0, 300)}`);
  if (openai) {
    const parsed = OpenAiErrorBody.strict().safeParse(JSON.parse(r.text));
    assert.ok(parsed.success, `${where}: not OpenAI's error shape: ${r.text.slice(0, 300)}`);
    assert.ok(
      Object.hasOwn(ERROR_CODES, parsed.data.error.code ?? ""),
      `${where}: ${parsed.data.error.code} not registered`,
    );
    return;
  }
  const parsed = ErrorEnvelope.strict().safeParse(JSON.parse(r.text));
  assert.ok(parsed.success, `${where}: not the envelope: ${r.text.slice(0, 300)}`);
  assert.ok(Object.hasOwn(ERROR_CODES, parsed.data.error.code), `${where}: ${parsed.data.error.code} not registered`);
}

test("every JSON-body route has a schema here (from the OpenAPI document)", async () => {
  const doc = (await (await fetch(`${t.server.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>;
  };
  const withJson: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (op.requestBody?.content?.["application/json"]) withJson.push(`${method.toUpperCase()} ${path}`);
    }
  }
  assert.deepEqual(
    withJson.filter((k) => !(k in BODIES)),
    [],
  );
});

test("bodies that do not match their schema: 4xx envelope, no write", async () => {
  const before = await state();
  for (const [key, target] of Object.entries(BODIES)) {
    const [method, path] = key.split(" ") as [string, string];
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 3 }).filter((v) => !target.schema.safeParse(v).success),
        async (value) => {
          assertEnvelope(
            `${key} ${JSON.stringify(value).slice(0, 100)}`,
            await send(method, fill(path), target.cred, JSON.stringify(value)),
            target.openai,
          );
        },
      ),
      { numRuns: 25 },
    );
  }
  assert.equal(await state(), before, "a bad body changed state");
});

test("query strings that do not match their schema: 4xx envelope, no write", async () => {
  const before = await state();
  const word = fc.string({ minLength: 1, maxLength: 12 });
  for (const [key, target] of Object.entries(QUERIES)) {
    const [method, path] = key.split(" ") as [string, string];
    await fc.assert(
      fc.asyncProperty(
        fc
          .dictionary(fc.oneof(word, fc.constantFrom("limit", "after", "cursor", "status", "wait", "max")), word, {
            minKeys: 1,
            maxKeys: 3,
          })
          .filter((q) => !("token" in q))
          .filter((q) => !target.schema.safeParse(q).success),
        async (q) => {
          const qs = new URLSearchParams(q).toString();
          assertEnvelope(`${key}?${qs}`, await send(method, `${fill(path)}?${qs}`, target.cred));
        },
      ),
      { numRuns: 25 },
    );
  }
  assert.equal(await state(), before, "a bad query changed state");
});
