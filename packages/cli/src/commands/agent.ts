import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  EXIT as AGENT_EXIT,
  type Agent,
  AgentStartError,
  type AgentStatusSnapshot,
  agentCertPaths,
  fetchAgentStatus,
  forgetIdentity,
  initAgentConfig,
  installService,
  isAlive,
  locateAgent,
  prepareAgentCsr,
  readAgentEnv,
  readPid,
  type ServiceScope,
  serviceStatus,
  startAgent,
  uninstallService,
} from "@gantry/agent";
import { type Command, InvalidArgumentError, Option } from "commander";
import { registerAgentExecutors } from "./agent-executors.ts";

/** Output and exit code; the CLI's CliContext fits. Without one, process streams and process.exitCode. */
export interface AgentCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  exitCode: number;
}

interface AgentFlags {
  executor?: string[];
  server?: string;
  key?: string;
  tier?: number;
  caps?: string[];
  capacity?: number;
  prefetch?: number;
  name?: string;
  config?: string;
  data?: string;
  transport?: "ws" | "poll";
  drainTimeout?: number;
  logLevel?: string;
  logFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  ca?: string;
  insecure?: boolean;
  allowShell?: boolean;
  maxExecutorMemory?: number;
  modelsDir?: string;
  gpu?: "auto" | "off";
  maxLoadedModels?: number;
  json?: boolean;
}

/** The agent's printed lines: text, or with --json one `{"message": …}` object per line (NDJSON). */
const printer = (io: AgentCliIo, json: boolean | undefined) => (line: string) =>
  io.stdout(json ? `${JSON.stringify({ message: line })}\n` : `${line}\n`);

const int = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`must be ${min}-${max}`);
  return n;
};

function processIo(): AgentCliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    set exitCode(code: number) {
      process.exitCode = code;
    },
    get exitCode() {
      return Number(process.exitCode ?? 0);
    },
  };
}

/**
 * `gantry agent` (run the agent; the seed's flags) and its subcommands: init, status, stop,
 * unregister, service. Flags > GANTRY_AGENT_* environment > config file > defaults.
 */
export function registerAgentCommands(program: Command, io: AgentCliIo = processIo()): Command {
  const agent = program
    .command("agent")
    .description("run a Gantry agent: register on first run, then connect and run jobs until SIGTERM")
    .option(
      "--server <url>",
      "server URL (first run; saved in the config); repeat it or separate URLs with commas for replicas of one cluster: on a lost connection the agent tries the next",
      (v: string, prev?: string) => (prev ? `${prev},${v}` : v),
    )
    .option("--key <key>", "enrolment key gnt_a_… (first run; saved in the config)")
    .option("--tier <n>", "performance tier 0-255, higher gets work first (default 5)", int(0, 255))
    .option(
      "--caps <caps...>",
      "capabilities to advertise with your attributes, e.g. shell.bash[fast]; each must be runnable here (see `gantry agent executors`)",
    )
    .option("--allow-shell", "let jobs run arbitrary commands (shell.bash, benchmark commands); off by default")
    .option("--models-dir <dir>", "GGUF models for the llm executor, one capability each (default: <data dir>/models)")
    .option(
      "--gpu <auto|off>",
      "llm: offload to CUDA/Metal/Vulkan when present (auto), or force the CPU (off)",
      (v) => {
        if (v !== "auto" && v !== "off") throw new InvalidArgumentError("auto or off");
        return v;
      },
    )
    .option("--max-loaded-models <n>", "llm: models kept in memory at once (default: 1)", int(1, 64))
    .option(
      "--max-executor-memory <mb>",
      "kill an isolated executor process (and fail its job) past this resident memory, in MB (default: no limit)",
      int(1, 10_000_000),
    )
    .option("--capacity <n>", "jobs to run at once (default 1)", int(1, 1024))
    .option(
      "--prefetch <n>",
      "jobs taken beyond --capacity, inputs fetched, waiting for the next free slot (default 0)",
      int(0, 1024),
    )
    .option("--name <name>", "friendly name shown in the agent list (default: hostname)")
    .option("--config <file>", "config/identity file (default ./.offload-client.json or the `agent init` file)")
    .option("--data <dir>", "data directory for the outbox, PID and status files (default: beside the config)")
    .addOption(
      new Option("--transport <kind>", "ws (pushed jobs) or poll (HTTP long-poll where sockets are blocked)").choices([
        "ws",
        "poll",
      ]),
    )
    .option("--drain-timeout <secs>", "on SIGTERM, how long running jobs may finish (default 60)", int(0, 86_400))
    .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent (default info)")
    .option("--log-file <file>", "log to this file (rotated at 10 MB, 5 kept) instead of stdout")
    .option("--tls-cert <file>", "client certificate (PEM) for mTLS")
    .option("--tls-key <file>", "client private key (PEM) for mTLS")
    .option("--ca <file>", "CA bundle (PEM) to trust for the server's certificate")
    .option("--insecure", "do not verify the server's TLS certificate (development only)")
    .option(
      "--executor <modules...>",
      "extra executor plugin modules (paths, file: URLs or package names exporting defineExecutor())",
    )
    .option("--json", 'print the agent\'s messages as NDJSON, one {"message": …} object per line')
    .action(async (flags: AgentFlags) => {
      const env = readAgentEnv();
      try {
        const options = {
          server: flags.server ?? env.GANTRY_AGENT_SERVER,
          key: flags.key ?? env.GANTRY_AGENT_KEY,
          tier: flags.tier ?? env.GANTRY_AGENT_TIER,
          capabilities: flags.caps ?? env.GANTRY_AGENT_CAPS,
          capacity: flags.capacity ?? env.GANTRY_AGENT_CAPACITY,
          prefetch: flags.prefetch,
          name: flags.name ?? env.GANTRY_AGENT_NAME,
          configPath: flags.config ?? env.GANTRY_AGENT_CONFIG,
          dataDir: flags.data ?? env.GANTRY_AGENT_DATA,
          transport: flags.transport ?? env.GANTRY_AGENT_TRANSPORT,
          drainTimeoutSecs: flags.drainTimeout,
          logLevel: flags.logLevel ?? env.GANTRY_LOG_LEVEL,
          logFile: flags.logFile,
          tls: { certFile: flags.tlsCert, keyFile: flags.tlsKey, caFile: flags.ca, insecure: flags.insecure },
          print: printer(io, flags.json),
          ...(flags.allowShell ? { allowShell: true } : {}),
          ...(flags.maxExecutorMemory ? { maxExecutorMemoryMb: flags.maxExecutorMemory } : {}),
          ...(flags.modelsDir ? { modelsDir: resolve(flags.modelsDir) } : {}),
          ...(flags.gpu ? { gpu: flags.gpu } : {}),
          ...(flags.maxLoadedModels ? { maxLoadedModels: flags.maxLoadedModels } : {}),
          ...(flags.executor ? { executors: flags.executor.map(executorSpecifier) } : {}),
        };
        // A server `restart` command ends the agent with EXIT.restart: start it again in this process.
        let code: number = AGENT_EXIT.restart;
        // Installed before the agent starts: a SIGTERM during start-up (systemctl stop) still stops it
        // cleanly once it is up, instead of killing the process.
        let running: Agent | undefined;
        let stopRequested = false;
        const onSignal = (signal: NodeJS.Signals) => {
          io.stderr(`${signal}: stopping the agent (again to stop at once)\n`);
          // A second signal while it is still starting (e.g. retrying an unreachable server) quits now.
          if (stopRequested && !running) process.exit(AGENT_EXIT.error);
          stopRequested = true;
          void running?.stop();
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
        try {
          while (code === AGENT_EXIT.restart && !stopRequested) {
            running = await startAgent(options);
            if (stopRequested) void running.stop();
            code = await running.done;
            if (code === AGENT_EXIT.restart && !stopRequested) io.stderr("restarting the agent (server command)\n");
          }
        } finally {
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
        }
        io.exitCode = code === AGENT_EXIT.restart ? AGENT_EXIT.ok : code;
      } catch (err) {
        if (err instanceof AgentStartError) {
          io.stderr(`error: ${err.message}\n`);
          io.exitCode = err.exitCode;
          return;
        }
        throw err;
      }
    });

  agent
    .command("init")
    .description("write the agent config (server, enrolment key) to the platform location, or to --config FILE")
    .usage("--server URL --key KEY [--name N] [--config FILE] [--tier N] [--capacity N] [--caps …] [--json]")
    .option("--json", "print the files written as JSON")
    .action(async (_flags: unknown, cmd: Command) => {
      // --server, --key, --name… are the parent's options (commander hands them to `agent`).
      const g = cmd.optsWithGlobals() as AgentFlags;
      const env = readAgentEnv();
      const server = g.server ?? env.GANTRY_AGENT_SERVER;
      const key = g.key ?? env.GANTRY_AGENT_KEY;
      if (!server || !key) {
        io.stderr("error: gantry agent init needs --server URL and --key <enrolment key>\n");
        io.exitCode = AGENT_EXIT.usage;
        return;
      }
      const { configPath, config } = initAgentConfig(
        {
          server,
          key,
          name: g.name,
          tier: g.tier,
          capacity: g.capacity,
          capabilities: g.caps,
          transport: g.transport,
          configPath: g.config ?? env.GANTRY_AGENT_CONFIG,
          tls: { certFile: g.tlsCert, keyFile: g.tlsKey, caFile: g.ca, insecure: g.insecure },
        },
        env,
      );
      // Over https without a certificate of its own, the agent makes its key and request now (seed 004);
      // a server running --agent-mtls signs the request when the agent first enrols.
      const csr = server.startsWith("https:") && !config.tls?.certFile ? await prepareAgentCsr(configPath) : undefined;
      if (g.json) {
        io.stdout(
          `${JSON.stringify({ configPath, ...(csr ? { keyFile: csr.keyFile, csrFile: csr.csrFile } : {}) })}\n`,
        );
        return;
      }
      io.stdout(`Configuration written to ${configPath}\n`);
      if (csr) {
        io.stdout(
          `Key written to ${csr.keyFile} (0600), certificate request to ${csr.csrFile}\n` +
            `The server signs it at enrolment: the certificate goes to ${agentCertPaths(configPath).certFile}\n`,
        );
      }
      io.stdout(`Start the agent with: gantry agent --config ${configPath}\n`);
    });

  registerAgentExecutors(agent, io);

  agent
    .command("status")
    .description("is the agent running and what is it doing (asks its loopback status endpoint)")
    .option("--json", "print the status as JSON")
    .action(async (_flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as AgentFlags;
      // `agent` has a --json of its own and commander hands it a subcommand's --json too: read it
      // from the globals (here and in the other subcommands).
      const where = locateAgent({ configPath: g.config, dataDir: g.data }, readAgentEnv());
      const status = await fetchAgentStatus(where.dataDir);
      if (g.json) io.stdout(`${JSON.stringify(status ?? { running: false }, null, 2)}\n`);
      else io.stdout(status ? describeStatus(status) : `not running (config ${where.configPath})\n`);
      if (!status) io.exitCode = 3;
    });

  agent
    .command("stop")
    .description("send SIGTERM to the running agent (PID file in its data directory); it drains first")
    .option("--wait", "wait until it has exited")
    .option("--json", 'print {"pid", "signalled", "stopped"} as JSON')
    .action(async (flags: { wait?: boolean; json?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as AgentFlags;
      const where = locateAgent({ configPath: g.config, dataDir: g.data }, readAgentEnv());
      const pid = readPid(where.dataDir);
      if (pid === null) {
        io.stdout(g.json ? `${JSON.stringify({ pid: null, signalled: false, stopped: true })}\n` : "not running\n");
        io.exitCode = 3;
        return;
      }
      process.kill(pid, "SIGTERM");
      if (!g.json) io.stdout(`sent SIGTERM to agent pid ${pid}\n`);
      if (flags.wait) {
        while (isAlive(pid)) await new Promise((r) => setTimeout(r, 200));
        if (!g.json) io.stdout("stopped\n");
      }
      if (g.json) io.stdout(`${JSON.stringify({ pid, signalled: true, stopped: flags.wait === true })}\n`);
    });

  agent
    .command("unregister")
    .description("delete the saved agent identity; the next start registers again with the enrolment key")
    .option("--json", 'print {"removed", "configPath"} as JSON')
    .action((_flags: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as AgentFlags;
      const where = locateAgent({ configPath: g.config, dataDir: g.data }, readAgentEnv());
      if (readPid(where.dataDir) !== null) {
        io.stderr("error: the agent is running; stop it first (gantry agent stop --wait)\n");
        io.exitCode = AGENT_EXIT.usage;
        return;
      }
      const removed = forgetIdentity(where.configPath);
      if (g.json) io.stdout(`${JSON.stringify({ removed, configPath: where.configPath })}\n`);
      else
        io.stdout(
          removed ? `identity removed from ${where.configPath}\n` : `no saved identity in ${where.configPath}\n`,
        );
    });

  const service = agent
    .command("service")
    .description("run the agent as a service: systemd unit (Linux) or launchd plist (macOS)");
  const scopeOptions = (c: Command) =>
    c
      .option("--user", "per-user service (default): ~/.config/systemd/user or ~/Library/LaunchAgents")
      .option("--system", "system-wide service: /etc/systemd/system or /Library/LaunchDaemons (needs root)")
      .option("--dry-run", "print the file and the commands instead of writing and running them")
      .option("--json", 'print each line as NDJSON, one {"message": …} object per line');
  type ServiceFlags = { user?: boolean; system?: boolean; dryRun?: boolean; runAs?: string; json?: boolean };
  const request = (flags: ServiceFlags, cmd: Command) => {
    const g = cmd.optsWithGlobals() as AgentFlags & ServiceFlags;
    const where = locateAgent({ configPath: g.config, dataDir: g.data }, readAgentEnv());
    const scope: ServiceScope = flags.system ? "system" : "user";
    const drain = g.drainTimeout ?? 60;
    return {
      scope,
      dryRun: flags.dryRun,
      print: printer(io, g.json),
      spec: {
        execPath: process.execPath,
        args: [process.argv[1] ?? "gantry", "agent", "--config", where.configPath, "--data", where.dataDir],
        workingDirectory: where.dataDir,
        user: flags.runAs,
        stopTimeoutSecs: drain + 30,
        logFile: `${where.dataDir}/agent.log`,
      },
    };
  };
  scopeOptions(service.command("install").description("write the unit/plist, enable and start it"))
    .option("--run-as <user>", "system scope: the user the agent runs as")
    .action(async (flags: ServiceFlags, cmd: Command) => {
      io.exitCode = await installService(request(flags, cmd));
    });
  scopeOptions(service.command("uninstall").description("stop, disable and remove the service")).action(
    async (flags: ServiceFlags, cmd: Command) => {
      io.exitCode = await uninstallService(request(flags, cmd));
    },
  );
  scopeOptions(service.command("status").description("show the service manager's status")).action(
    async (flags: ServiceFlags, cmd: Command) => {
      io.exitCode = await serviceStatus(request(flags, cmd));
    },
  );

  return agent;
}

function describeStatus(s: AgentStatusSnapshot): string {
  const jobs = s.jobs.map((j) => `    ${j.id}  ${j.capability}  attempt ${j.attempt}\n`).join("");
  return (
    `agent ${s.agentId}${s.name ? ` (${s.name})` : ""}: ${s.activity}, pid ${s.pid}, up ${s.uptimeSecs}s\n` +
    `  server:     ${s.server} (${s.transport}, ${s.connection})\n` +
    `  jobs:       ${s.jobs.length}/${s.capacity}\n${jobs}` +
    `  unacked:    ${s.outboxPending} messages in the outbox\n` +
    `  dead:       ${s.deadLetters ?? 0} messages given up on (dead-letters.jsonl in the data directory)\n` +
    `  caps:       ${s.capabilities.join(", ")}\n`
  );
}

/** A plugin given as a relative or absolute path becomes a file: URL; package names stay as they are. */
function executorSpecifier(spec: string): string {
  if (spec.startsWith(".") || isAbsolute(spec)) return pathToFileURL(resolve(spec)).href;
  return spec;
}
