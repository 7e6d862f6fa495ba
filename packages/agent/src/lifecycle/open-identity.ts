import type { SystemInfo } from "@gantry/protocol";
import type { AgentConfigFile } from "../config/config-file.ts";
import { writeConfigFile } from "../config/config-file.ts";
import { AgentApi } from "../connection/agent-api.ts";
import { HttpClient } from "../connection/http-client.ts";
import { ServerList } from "../connection/server-list.ts";
import { loadTls, mergeTls, TlsConfigError, type TlsConnectOptions } from "../connection/tls-options.ts";
import { agentCertPaths } from "./agent-certificate.ts";
import { AgentStartError, enrol } from "./enrol.ts";
import { EXIT } from "./exit-codes.ts";
import type { AgentSettings } from "./resolve-settings.ts";

export interface Identity {
  http: HttpClient;
  /** The server URLs (replicas) and the one in use: shared by HTTP, the link and file transfers. */
  servers: ServerList;
  api: AgentApi;
  tls: TlsConnectOptions;
  enrolled: Awaited<ReturnType<typeof enrol>>;
  /** The config as saved now (identity, token). */
  config(): AgentConfigFile;
  save(c: AgentConfigFile): void;
}

/**
 * TLS, the HTTP client and the seed's enrolment: register on the first run (or reuse the saved
 * identity), authenticate, ping. `onClose` receives the HTTP client's cleanup.
 */
export async function openIdentity(
  s: AgentSettings,
  registration: { capabilities: string[]; systemInfo: SystemInfo },
  onClose: (f: () => void) => void,
): Promise<Identity> {
  const { file, logger, given } = s;
  const server = given.server ?? file.server;
  const tlsOptions = mergeTls(given.tls, file.tls);
  let tls: TlsConnectOptions;
  try {
    tls = loadTls(tlsOptions);
  } catch (err) {
    if (err instanceof TlsConfigError) throw new AgentStartError(`TLS: ${err.message}`, EXIT.usage);
    throw err;
  }
  if (tlsOptions.insecure) logger.warn("TLS certificate verification is off (insecure): development only");
  let servers: ServerList;
  try {
    servers = new ServerList(server ?? "http://127.0.0.1");
  } catch (err) {
    throw new AgentStartError(`--server: ${(err as Error).message}`, EXIT.usage);
  }
  let http = new HttpClient(servers, tls);
  onClose(() => http.close());
  let api = new AgentApi(http);
  // At registration with a server running --agent-mtls: switch to the certificate it issued.
  const useCertificate = (files: { certFile: string; keyFile: string }) => {
    tls = loadTls({ ...tlsOptions, ...files });
    const old = http;
    http = new HttpClient(servers, tls);
    onClose(() => http.close());
    old.close();
    api = new AgentApi(http);
    return api;
  };
  let config: AgentConfigFile = {
    ...file,
    tier: s.tier,
    capacity: s.capacity,
    capabilities: s.givenCaps,
    name: s.name,
    ...(given.transport ? { transport: s.transport } : {}),
    ...(given.dataDir ? { dataDir: s.dataDir } : {}),
    ...(Object.keys(tlsOptions).length ? { tls: tlsOptions } : {}),
  };
  const save = (c: AgentConfigFile) => {
    config = c;
    writeConfigFile(s.configPath, c);
  };
  const enrolled = await enrol({
    api,
    config,
    configPath: s.configPath,
    server,
    apiKey: given.key,
    registration: { capabilities: registration.capabilities, tier: s.tier, capacity: s.capacity, name: s.name },
    systemInfo: registration.systemInfo,
    httpTries: s.o.httpTries,
    print: s.print,
    logger,
    save,
    useCertificate,
    nextServer: () => servers.next(),
    // A certificate this agent was issued at an earlier enrolment is replaced when it registers anew.
    hasClientCert: Boolean(tlsOptions.certFile) && tlsOptions.certFile !== agentCertPaths(s.configPath).certFile,
  });
  config = enrolled.config;
  return { http, servers, api, tls, enrolled, config: () => config, save };
}
