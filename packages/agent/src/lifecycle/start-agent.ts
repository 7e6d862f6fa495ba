import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { type AgentHealth, type AgentMetrics, capabilityName, parseCapability } from "@gantry/protocol";
import { CommandGuard } from "../commands/command-guard.ts";
import { type CommandHost, runCommand } from "../commands/command-handler.ts";
import { inheritedEnv, readAgentEnv } from "../config/agent-env.ts";
import { AGENT_DEFAULTS, type AgentOptions } from "../config/agent-options.ts";
import { type AgentConfigFile, readConfigFile, writeConfigFile } from "../config/config-file.ts";
import { defaultDataDir, resolveConfigPath } from "../config/config-location.ts";
import { AgentApi } from "../connection/agent-api.ts";
import { HttpClient } from "../connection/http-client.ts";
import { loadTls, mergeTls, TlsConfigError, type TlsConnectOptions } from "../connection/tls-options.ts";
import { BUILTIN_EXECUTORS } from "../executors/builtin-executors.ts";
import { createLogger } from "../logging/create-logger.ts";
import { Outbox } from "../outbox/outbox.ts";
import { unrunnableCapabilities } from "../runner/check-capabilities.ts";
import { executorSettings } from "../runner/executor-settings.ts";
import { WorkerPool } from "../runner/worker-pool.ts";
import { claimPidFile } from "../status/pid-file.ts";
import { type AgentStatusSnapshot, startStatusServer } from "../status/status-server.ts";
import { collectSystemInfo } from "../sysinfo/collect-system-info.ts";
import { MetricsSampler } from "../sysinfo/metrics-sampler.ts";
import type { AgentState } from "./agent-state.ts";
import { ControlLoop } from "./control-loop.ts";
import { AgentStartError, enrol } from "./enrol.ts";
import { EXIT } from "./exit-codes.ts";

/** A running agent. */
export interface Agent {
  agentId: string;
  configPath: string;
  dataDir: string;
  /** Capabilities advertised at registration. */
  capabilities: string[];
  /**
   * Drain and stop: reject new pushes, let running jobs finish (up to the drain timeout), flush the
   * outbox, deregister. A second call (or `drainTimeoutMs: 0` while draining) stops at once.
   */
  stop(opts?: { drainTimeoutMs?: number }): Promise<void>;
  /** Resolves with the exit code once stopped: 0 clean, 1 error/forced, 2 usage, 3 revoked. */
  done: Promise<number>;
  state(): AgentState;
  status(): AgentStatusSnapshot;
}

/** A plugin given as a file path (relative to the config file's folder) becomes a file URL; URLs and package names stay. */
function executorUrl(spec: string, baseDir: string): string {
  if (/^(\.{1,2}[\\/]|\/|[A-Za-z]:[\\/])/.test(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  return spec;
}

/** Merges explicit capabilities with detected ones; user attributes win for the same string. */
function mergeCapabilities(detected: string[], given: string[]): string[] {
  const out = [...given];
  for (const c of detected) if (!out.some((g) => g === c || capabilityName(g) === capabilityName(c))) out.push(c);
  return out;
}

/**
 * Starts the agent: detect hardware and executors, register (first run) or reuse the saved identity,
 * authenticate, ping, then connect and run pushed jobs until stopped.
 * Throws AgentStartError (with an exit code) when it cannot start.
 */
export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  const env = readAgentEnv();
  const configPath = resolveConfigPath(options.configPath, env);
  const file: AgentConfigFile = readConfigFile(configPath);
  const o = {
    ...AGENT_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof AGENT_DEFAULTS & AgentOptions;
  const tier = options.tier ?? file.tier ?? AGENT_DEFAULTS.tier;
  const capacity = options.capacity ?? file.capacity ?? AGENT_DEFAULTS.capacity;
  const givenCaps = options.capabilities ?? file.capabilities ?? [];
  const transport = options.transport ?? file.transport ?? AGENT_DEFAULTS.transport;
  const name = options.name ?? file.name ?? os.hostname();
  const dataDir = path.resolve(options.dataDir ?? file.dataDir ?? defaultDataDir(configPath));
  const print = o.print ?? ((line: string) => console.log(line));
  const logger = o.logger ?? createLogger({ level: o.logLevel, ...(o.logFile ? { file: o.logFile } : {}) });

  for (const c of givenCaps) {
    try {
      parseCapability(c);
    } catch (err) {
      throw new AgentStartError(`Bad capability "${c}": ${(err as Error).message}`, EXIT.usage);
    }
  }
  const releasePid = claimPidFile(dataDir);
  const cleanup: Array<() => void | Promise<void>> = [releasePid];
  const runCleanup = async () => {
    for (const f of cleanup.reverse()) {
      try {
        await f();
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "cleanup step failed");
      }
    }
    cleanup.length = 0;
  };

  try {
    const plugins = (options.executors ?? file.executors ?? []).map((m) => executorUrl(m, path.dirname(configPath)));
    const modules = [...(o.builtinExecutors ? BUILTIN_EXECUTORS : []), ...plugins];
    const threads = o.workerThreads ?? Math.max(1, Math.min(capacity, os.availableParallelism()));
    const pool = new WorkerPool(
      threads,
      modules,
      (reason, lostJobs) => logger.warn({ lostJobs }, `${reason}; a new executor thread takes its place when needed`),
      o.workerIdleSecs * 1000,
      executorSettings({
        allowShell: options.allowShell ?? file.allowShell ?? false,
        benchmarks: options.benchmarks ?? file.benchmarks ?? {},
        dataDir,
        maxLogBytes: o.maxLogBytes,
        maxOutputBytes: o.maxOutputBytes,
        abortGraceMs: o.abortGraceMs,
        inheritEnv: inheritedEnv(),
      }),
    );
    cleanup.push(() => pool.close());
    const [detected, systemInfo] = await Promise.all([pool.detect(), collectSystemInfo(dataDir)]);
    for (const d of detected)
      if (d.problem)
        logger.info({ capability: d.name, executor: d.executor, problem: d.problem }, "executor unavailable");
    const unrunnable = unrunnableCapabilities(givenCaps, detected);
    if (unrunnable) throw new AgentStartError(unrunnable, EXIT.usage);
    const usable = detected.filter((d) => d.detected);
    const detectedCaps = usable.map((d) => (d.attributes.length ? `${d.name}[${d.attributes.join(";")}]` : d.name));
    const capabilities = mergeCapabilities(detectedCaps, givenCaps);

    const server = options.server ?? file.server;
    const tlsOptions = mergeTls(options.tls, file.tls);
    let tls: TlsConnectOptions;
    try {
      tls = loadTls(tlsOptions);
    } catch (err) {
      if (err instanceof TlsConfigError) throw new AgentStartError(`TLS: ${err.message}`, EXIT.usage);
      throw err;
    }
    if (tlsOptions.insecure) logger.warn("TLS certificate verification is off (insecure): development only");
    const http = new HttpClient(server ?? "http://127.0.0.1", tls);
    cleanup.push(() => http.close());
    const api = new AgentApi(http);
    let config: AgentConfigFile = {
      ...file,
      tier,
      capacity,
      capabilities: givenCaps,
      name,
      ...(options.transport ? { transport } : {}),
      ...(options.dataDir ? { dataDir } : {}),
      ...(Object.keys(tlsOptions).length ? { tls: tlsOptions } : {}),
    };
    const save = (c: AgentConfigFile) => {
      config = c;
      writeConfigFile(configPath, c);
    };
    const enrolled = await enrol({
      api,
      config,
      configPath,
      server,
      apiKey: options.key,
      registration: { capabilities, tier, capacity, name },
      systemInfo,
      httpTries: o.httpTries,
      print,
      logger,
      save,
    });
    config = enrolled.config;

    const outbox = new Outbox({ dir: dataDir, fsyncIntervalMs: o.outboxFsyncIntervalMs });
    cleanup.push(() => outbox.close());
    const sampler = new MetricsSampler({
      dataDir,
      gpus: systemInfo.gpus ?? [],
      intervalMs: enrolled.heartbeatIntervalSecs * 1000,
    });
    if (o.metrics) {
      sampler.start();
      cleanup.push(() => sampler.stop());
    }

    let resolveDone!: (code: number) => void;
    const done = new Promise<number>((r) => {
      resolveDone = r;
    });
    let finishing = false;
    let stopping: Promise<void> | null = null;
    const finish = async (code: number): Promise<void> => {
      if (finishing) return;
      finishing = true;
      loop.close();
      await runCleanup();
      logger.info({ code }, "agent stopped");
      resolveDone(code);
    };

    // Executors' own health hooks (a loaded model still answering), refreshed once per heartbeat.
    let executorProblems: string[] = [];
    const healthTimer = setInterval(
      () => void pool.checkHealth(2000).then((p) => (executorProblems = p)),
      enrolled.heartbeatIntervalSecs * 1000,
    );
    healthTimer.unref();
    cleanup.push(() => clearInterval(healthTimer));
    // Shared with the runner: a rescan updates it in place.
    const executors = new Set(usable.map((d) => d.name));
    const guard = new CommandGuard({ commandKey: config.commandKey ?? "", agentId: enrolled.agentId, dataDir });
    let restartRequested = false;
    const host: CommandHost = {
      drain: () => loop.drain(),
      resume: () => {
        if (stopping) throw new Error("the agent is shutting down");
        loop.resume();
      },
      update: (p) => loop.setProfile(p),
      rescan: async () => {
        const found = (await pool.detect()).filter((d) => d.detected);
        executors.clear();
        for (const d of found) executors.add(d.name);
        const caps = found.map((d) => (d.attributes.length ? `${d.name}[${d.attributes.join(";")}]` : d.name));
        const merged = mergeCapabilities(caps, givenCaps);
        loop.setProfile({ capabilities: merged });
        return merged;
      },
      diagnostics: async () => ({
        status: status(),
        systemInfo: await collectSystemInfo(dataDir),
        metrics: o.metrics ? sampler.latest() : null,
        node: process.version,
        memory: process.memoryUsage(),
      }),
      restart: () => {
        restartRequested = true;
        void stop();
      },
    };

    const loop: ControlLoop = new ControlLoop({
      onCommand: async (jws) => {
        const verdict = await guard.verify(jws);
        if (!verdict.ok) return { commandId: verdict.commandId, status: "refused", error: verdict.reason };
        return { commandId: verdict.command.id, ...(await runCommand(verdict.command, host)) };
      },
      server: config.server!,
      transport,
      capacity,
      capabilities,
      tier,
      pollWaitSecs: o.pollWaitSecs,
      backoff: { baseMs: o.reconnectBaseMs, capMs: o.reconnectCapMs },
      heartbeatIntervalSecs: enrolled.heartbeatIntervalSecs,
      http,
      api,
      tls,
      agentId: enrolled.agentId,
      key: enrolled.key,
      token: enrolled.token,
      tokenExpiresIn: enrolled.expiresIn,
      onToken: (token, expiresIn) => {
        save({ ...config, jwtToken: token, tokenExpiresIn: expiresIn });
      },
      pool,
      executors,
      abortGraceMs: o.abortGraceMs,
      outbox,
      logger,
      sample: () => withExecutorHealth(o.metrics ? sampler.latest() : {}, executorProblems),
      onFatal: (code, message) => {
        logger.error(message);
        print(`❌ ${message}`);
        void finish(code);
      },
    });

    const status = (): AgentStatusSnapshot => ({
      pid: process.pid,
      agentId: enrolled.agentId,
      name,
      server: config.server!,
      state: loop.state,
      activity: loop.state === "running" ? (loop.runner.size > 0 ? "busy" : "idle") : loop.state,
      connection: loop.connection,
      transport,
      capacity,
      capabilities,
      jobs: loop.runner.jobs().map((j) => ({ id: j.id, capability: j.capability, epoch: j.epoch, attempt: j.attempt })),
      outboxPending: outbox.size,
      uptimeSecs: Math.round((Date.now() - loop.startedAt) / 1000),
    });
    if (o.statusServer) cleanup.push(await startStatusServer(dataDir, status));

    loop.start();
    logger.info({ agentId: enrolled.agentId, capabilities, capacity, transport, dataDir }, "agent started");

    const stop = (opts: { drainTimeoutMs?: number } = {}): Promise<void> => {
      if (finishing) return done.then(() => undefined);
      if (stopping) {
        // Second request: stop at once. Unacknowledged results stay in the outbox on disk.
        logger.warn("second stop request: stopping now");
        loop.runner.abortAll("shutdown");
        void finish(EXIT.error);
        return done.then(() => undefined);
      }
      stopping = (async () => {
        const drainMs = opts.drainTimeoutMs ?? o.drainTimeoutSecs * 1000;
        logger.info({ running: loop.runner.size, drainMs }, "draining: no new jobs; waiting for running jobs");
        loop.drain();
        const idle = loop.runner.whenIdle();
        const timedOut = await Promise.race([idle.then(() => false), sleep(drainMs, true, { ref: false })]);
        if (finishing) return;
        if (timedOut && loop.runner.size > 0) {
          logger.warn({ running: loop.runner.size }, "drain timeout: aborting the remaining jobs");
          loop.runner.abortAll("shutdown");
          await Promise.race([idle, sleep(o.abortGraceMs * 2, undefined, { ref: false })]);
        }
        loop.state = "stopping";
        const flushed = await loop.waitOutboxEmpty(loop.connection === "ready" ? 10_000 : 2000);
        if (!flushed) logger.warn({ pending: outbox.size }, "outbox not empty at stop; it will be sent on next start");
        const deregistered = await loop.deregister(3000);
        if (!deregistered) logger.warn("could not deregister (server unreachable); it will see the agent as gone");
        await finish(restartRequested ? EXIT.restart : EXIT.ok);
      })();
      return stopping.then(() => done).then(() => undefined);
    };

    return {
      agentId: enrolled.agentId,
      configPath,
      dataDir,
      capabilities,
      stop,
      done,
      state: () => (finishing ? "stopped" : loop.state),
      status,
    };
  } catch (err) {
    await runCleanup();
    throw err;
  }
}

/** Adds executor health problems to the sampled health (an executor problem makes the agent unhealthy). */
function withExecutorHealth(
  sample: { metrics?: AgentMetrics; health?: AgentHealth },
  problems: string[],
): { metrics?: AgentMetrics; health?: AgentHealth } {
  if (problems.length === 0) return sample;
  const base = sample.health ?? { healthy: true, issues: [], warnings: [] };
  return { ...sample, health: { healthy: false, issues: [...base.issues, ...problems], warnings: base.warnings } };
}
