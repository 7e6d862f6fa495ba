import type { AgentService } from "./agents/agent-service.ts";
import type { CommandService } from "./agents/command-service.ts";
import type { Principals } from "./auth/principals.ts";
import type { Tokens } from "./auth/tokens.ts";
import type { AgentRegistry } from "./dispatch/agent-registry.ts";
import type { Dispatcher } from "./dispatch/dispatcher.ts";
import type { JobLifecycle } from "./dispatch/job-lifecycle.ts";
import type { JobEvents } from "./events/job-events.ts";
import type { FileService } from "./files/file-service.ts";
import type { ResolvedServerOptions } from "./server-options.ts";
import type { Store } from "./store/store.ts";

/** Everything route plugins need, built once per server and passed to each plugin (no singletons). */
export interface GantryContext {
  options: ResolvedServerOptions;
  store: Store;
  events: JobEvents;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  lifecycle: JobLifecycle;
  agents: AgentService;
  commands: CommandService;
  principals: Principals;
  tokens: Tokens;
  files: FileService;
  version: string;
}
