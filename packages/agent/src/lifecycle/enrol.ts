import type { RegisterAgentRequest, SystemInfo } from "@gantry/protocol";
import type { Logger } from "pino";
import type { AgentConfigFile } from "../config/config-file.ts";
import type { AgentApi } from "../connection/agent-api.ts";
import { HttpError } from "../connection/http-client.ts";
import { withRetry } from "../connection/retry.ts";
import { sameCluster } from "../connection/server-list.ts";
import { explainNetError } from "../connection/tls-options.ts";
import { describeGpu } from "../sysinfo/gpu-parsers.ts";
import { newAgentCsr, readPendingCsr, saveAgentCertificate } from "./agent-certificate.ts";
import { EXIT, REENROL_HINT } from "./exit-codes.ts";

/** A failure before the agent is running; the CLI prints the message and exits with `exitCode`. */
export class AgentStartError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "AgentStartError";
    this.exitCode = exitCode;
  }
}

export interface EnrolInput {
  api: AgentApi;
  config: AgentConfigFile;
  configPath: string;
  server: string | undefined;
  apiKey: string | undefined;
  registration: { capabilities: string[]; tier: number; capacity: number; name: string | null };
  systemInfo: SystemInfo;
  httpTries: number;
  print: (line: string) => void;
  logger: Logger;
  save: (config: AgentConfigFile) => void;
  /**
   * Over https without a configured client certificate, the agent sends a CSR at registration; when
   * the server answers a certificate (`--agent-mtls`), it is saved under `<config dir>/certs/` and
   * this switches the HTTP client to it, returning the API to use from then on.
   */
  useCertificate?: (files: { certFile: string; keyFile: string }) => AgentApi;
  /** A client certificate is already configured (no CSR is sent). */
  hasClientCert?: boolean;
  /** Several server URLs (replicas): move to the next after a failed try; returns it. */
  nextServer?: () => string;
}

export interface EnrolResult {
  config: AgentConfigFile;
  agentId: string;
  key: string;
  token: string;
  expiresIn: number;
  heartbeatIntervalSecs: number;
}

/**
 * The seed's flow with its output: register (unless a saved identity matches) → auth → save → ping.
 * A saved identity the server no longer knows is replaced by registering again; a revoked one stops.
 */
export async function enrol(input: EnrolInput): Promise<EnrolResult> {
  const { print, logger } = input;
  let api = input.api;
  const retry = {
    tries: input.httpTries,
    onRetry: (err: unknown, attempt: number, delayMs: number) => {
      // Several replicas: the next try goes to the next one.
      const next = input.nextServer?.();
      logger.warn({ err: explainNetError(err), attempt, delayMs, next }, "server not reachable; retrying");
    },
  };
  const info = input.systemInfo;
  print("Collecting system information...");
  print(`OS: ${info.os}`);
  print(`Architecture: ${info.arch}`);
  print(`Memory: ${info.memoryMb} MB`);
  print(`GPU: ${describeGpu(info.gpu)}`);
  print("");

  let config = { ...input.config };
  const server = input.server ?? config.server;
  if (!server) throw new AgentStartError("No server URL: pass --server URL on the first run.", EXIT.usage);
  const explain = (err: unknown) => explainNetError(err, server.startsWith("https:"));
  const apiKey = input.apiKey ?? config.apiKey;
  // Another list of the same cluster's replicas (one URL in common) keeps the identity.
  const hasIdentity = Boolean(config.agentId && config.key) && sameCluster(config.server, server);
  let heartbeatIntervalSecs = 10;

  const register = async (): Promise<void> => {
    if (!apiKey)
      throw new AgentStartError("No enrolment key: pass --key <enrolment key> on the first run.", EXIT.usage);
    print(`Registering with server: ${server}`);
    print(`Capabilities: [${input.registration.capabilities.map((c) => `'${c}'`).join(", ")}]`);
    print(`Tier: ${input.registration.tier}`);
    print(`Capacity: ${input.registration.capacity}`);
    print("");
    const body: RegisterAgentRequest = {
      apiKey,
      capabilities: input.registration.capabilities,
      tier: input.registration.tier,
      capacity: input.registration.capacity,
      systemInfo: info,
    };
    if (input.registration.name) body.name = input.registration.name;
    // The request `gantry agent init` prepared, else a fresh one.
    const csr =
      server.startsWith("https:") && !input.hasClientCert && input.useCertificate
        ? ((await readPendingCsr(input.configPath)) ?? (await newAgentCsr()))
        : undefined;
    if (csr) body.csr = csr.csr;
    let res: Awaited<ReturnType<AgentApi["register"]>>;
    try {
      res = await withRetry(() => api.register(body), retry);
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) {
        throw new AgentStartError(`Registration failed: ${err.message}`, err.status === 400 ? EXIT.usage : EXIT.error);
      }
      throw new AgentStartError(`Registration failed: ${explain(err)}`, EXIT.error);
    }
    print("Registration successful!");
    print(`Agent ID: ${res.agentId}`);
    print(`Message: ${res.message}`);
    print("");
    heartbeatIntervalSecs = res.heartbeatIntervalSecs;
    let tls = config.tls;
    if (csr && res.certificate && res.caCertificate && input.useCertificate) {
      const files = saveAgentCertificate(input.configPath, {
        certificate: res.certificate,
        keyPem: csr.keyPem,
        caCertificate: res.caCertificate,
      });
      print(`Certificate saved to ${files.certFile}`);
      api = input.useCertificate(files);
      tls = { ...tls, ...files };
    }
    config = {
      ...config,
      ...(tls ? { tls } : {}),
      server,
      apiKey,
      agentId: res.agentId,
      key: res.key,
      commandKey: res.commandKey,
      registered: input.registration,
    };
    delete config.jwtToken;
    delete config.tokenExpiresIn;
  };

  // A saved identity is reused even if capabilities, tier or capacity changed: hello carries them.
  if (!hasIdentity) await register();
  else {
    print(`Using saved identity from ${input.configPath}`);
    print(`Agent ID: ${config.agentId}`);
    print("");
    if (apiKey) config.apiKey = apiKey;
  }

  print("Authenticating...");
  let auth: Awaited<ReturnType<AgentApi["auth"]>>;
  try {
    auth = await withRetry(() => api.auth(config.agentId!, config.key!), retry);
  } catch (err) {
    if (err instanceof HttpError && err.code === "agent_revoked") {
      throw new AgentStartError(
        `This agent (${config.agentId}) was revoked by the server. ${REENROL_HINT}`,
        EXIT.revoked,
      );
    }
    if (err instanceof HttpError && (err.status === 401 || err.status === 404) && hasIdentity && apiKey) {
      print("The server does not know the saved identity; registering again.");
      await register();
      auth = await withRetry(() => api.auth(config.agentId!, config.key!), retry);
    } else {
      throw new AgentStartError(`Authentication failed: ${explain(err)}`, EXIT.error);
    }
  }
  print("Authentication successful!");
  config.jwtToken = auth.token;
  // Absolute Unix seconds, as the server answers it and the seed's .offload-client.json stores it.
  config.tokenExpiresIn = auth.expiresIn;
  input.save(config);
  print(`Configuration saved to ${input.configPath}`);
  print("");
  print("Testing connection...");
  try {
    await withRetry(() => api.ping(auth.token), retry);
  } catch (err) {
    throw new AgentStartError(`Ping failed: ${explain(err)}`, EXIT.error);
  }
  print("✅ Ping test successful - agent is ready!");
  return {
    config,
    agentId: config.agentId!,
    key: config.key!,
    token: auth.token,
    expiresIn: auth.expiresIn,
    heartbeatIntervalSecs,
  };
}
