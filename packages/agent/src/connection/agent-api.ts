import { AuthAgentResponse, PingResponse, type RegisterAgentRequest, RegisterAgentResponse } from "@gantry/protocol";
import type { HttpClient } from "./http-client.ts";

/** The seed's HTTP flow: register → auth → ping. Responses are checked with the protocol schemas. */
export class AgentApi {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    this.#http = http;
  }

  async register(body: RegisterAgentRequest): Promise<RegisterAgentResponse> {
    const res = await this.#http.request<unknown>({ method: "POST", path: "/agent/register", body });
    return RegisterAgentResponse.parse(res);
  }

  async auth(agentId: string, key: string): Promise<AuthAgentResponse> {
    const res = await this.#http.request<unknown>({ method: "POST", path: "/agent/auth", body: { agentId, key } });
    return AuthAgentResponse.parse(res);
  }

  async ping(token: string): Promise<void> {
    PingResponse.parse(await this.#http.request<unknown>({ method: "GET", path: "/private/agent/ping", token }));
  }
}
