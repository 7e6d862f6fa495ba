export { type AgentEnv, readAgentEnv } from "./config/agent-env.ts";
export { AGENT_DEFAULTS, type AgentOptions } from "./config/agent-options.ts";
export type { BenchmarkSpec } from "./config/benchmark-spec.ts";
export { type AgentConfigFile, readConfigFile, writeConfigFile } from "./config/config-file.ts";
export { defaultDataDir, LOCAL_CONFIG_FILE, platformConfigPath, resolveConfigPath } from "./config/config-location.ts";
export { forgetIdentity, initAgentConfig, locateAgent } from "./config/locate-agent.ts";
export type { TlsOptions } from "./connection/tls-options.ts";
export { agentCertPaths, prepareAgentCsr } from "./lifecycle/agent-certificate.ts";
export { AgentStartError } from "./lifecycle/enrol.ts";
export { EXIT, REENROL_HINT } from "./lifecycle/exit-codes.ts";
export { type Agent, startAgent } from "./lifecycle/start-agent.ts";
export {
  type Detection,
  defineExecutor,
  type Executor,
  type ExecutorContext,
  ExecutorError,
  type ExecutorJob,
  type ExecutorSettings,
} from "./runner/executor.ts";
export { type ListExecutorsOptions, listExecutors } from "./runner/list-executors.ts";
export type { DetectedExecutor } from "./runner/worker-messages.ts";
export type { ServiceScope, ServiceSpec } from "./service/service-files.ts";
export { installService, serviceStatus, uninstallService } from "./service/service-manager.ts";
export { isAlive, readPid } from "./status/pid-file.ts";
export { type AgentStatusSnapshot, fetchAgentStatus } from "./status/status-server.ts";
