import type { AgentHealth, AgentMetrics } from "@gantry/protocol";
import { CommandGuard } from "../commands/command-guard.ts";
import { runCommand } from "../commands/command-handler.ts";
import type { AgentOptions } from "../config/agent-options.ts";
import { Outbox } from "../outbox/outbox.ts";
import { claimPidFile } from "../status/pid-file.ts";
import { type AgentStatusSnapshot, startStatusServer } from "../status/status-server.ts";
import { collectSystemInfo } from "../sysinfo/collect-system-info.ts";
import { MetricsSampler } from "../sysinfo/metrics-sampler.ts";
import type { AgentState } from "./agent-state.ts";
import { applyDetected, type CommandHostDeps, commandHost } from "./command-host.ts";
import { ControlLoop } from "./control-loop.ts";
import { createPool, detectExecutors, detectedCapabilities, mergeCapabilities } from "./detect-executors.ts";
import { EXIT } from "./exit-codes.ts";
import { openIdentity } from "./open-identity.ts";
import { resolveSettings } from "./resolve-settings.ts";
import { drainAndDeregister } from "./stop-agent.ts";

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

/**
 * Starts the agent: resolve settings, detect hardware and executors, register (first run) or reuse
 * the saved identity, authenticate, ping, then connect and run pushed jobs until stopped.
 * Throws AgentStartError (with an exit code) when it cannot start.
 */
export async function startAgent(options: AgentOptions = {}): Promise<Agent> {
  const s = resolveSettings(options);
  const { o, logger, dataDir, capacity, transport, name, configPath, givenCaps } = s;
  const cleanup: Array<() => void | Promise<void>> = [claimPidFile(dataDir)];
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
    const pool = createPool(s);
    cleanup.push(() => pool.close());
    const [usable, systemInfo] = await Promise.all([detectExecutors(pool, s), collectSystemInfo(dataDir)]);
    const capabilities = mergeCapabilities(detectedCapabilities(usable), givenCaps);
    const id = await openIdentity(s, { capabilities, systemInfo }, (f) => cleanup.push(f));
    const { enrolled } = id;

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
    let restartRequested = false;
    /** Set when an executor lost its GPU: the drain ends with exit 1 (a supervisor restarts or alerts). */
    let failedExit = false;
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
    const guard = new CommandGuard({ commandKey: id.config().commandKey ?? "", agentId: enrolled.agentId, dataDir });
    const hostDeps: CommandHostDeps = {
      loop: () => loop,
      pool,
      executors,
      givenCaps,
      stopping: () => stopping !== null,
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
    const host = commandHost(hostDeps);

    const loop: ControlLoop = new ControlLoop({
      onCommand: async (jws) => {
        const verdict = await guard.verify(jws);
        if (!verdict.ok) return { commandId: verdict.commandId, status: "refused", error: verdict.reason };
        return { commandId: verdict.command.id, ...(await runCommand(verdict.command, host)) };
      },
      server: id.servers,
      transport,
      capacity,
      prefetch: o.prefetch ?? 0,
      capabilities,
      tier: s.tier,
      pollWaitSecs: o.pollWaitSecs,
      backoff: { baseMs: o.reconnectBaseMs, capMs: o.reconnectCapMs },
      heartbeatIntervalSecs: enrolled.heartbeatIntervalSecs,
      http: id.http,
      api: id.api,
      tls: id.tls,
      agentId: enrolled.agentId,
      key: enrolled.key,
      token: enrolled.token,
      tokenExpiresIn: enrolled.expiresIn,
      onToken: (token, expiresIn) => {
        id.save({ ...id.config(), jwtToken: token, tokenExpiresIn: expiresIn });
      },
      pool,
      executors,
      abortGraceMs: o.abortGraceMs,
      outbox,
      dataDir,
      logger,
      sample: () => withLoadedModels(withExecutorHealth(o.metrics ? sampler.latest() : {}, executorProblems), pool),
      onJobError: (e) => {
        if (e.code !== "gpu_lost") return;
        logger.error(`${e.message}: draining and exiting`);
        s.print(`❌ ${e.message}: draining and exiting`);
        failedExit = true;
        void stop();
      },
      onFatal: (code, message) => {
        logger.error(message);
        s.print(`❌ ${message}`);
        void finish(code);
      },
    });

    const status = (): AgentStatusSnapshot => ({
      pid: process.pid,
      agentId: enrolled.agentId,
      name,
      server: id.config().server!,
      state: loop.state,
      activity: loop.state === "running" ? (loop.runner.size > 0 ? "busy" : "idle") : loop.state,
      connection: loop.connection,
      transport,
      capacity,
      capabilities,
      jobs: loop.runner.jobs().map((j) => ({ id: j.id, capability: j.capability, epoch: j.epoch, attempt: j.attempt })),
      outboxPending: outbox.size,
      deadLetters: loop.deadLetters.count,
      uptimeSecs: Math.round((Date.now() - loop.startedAt) / 1000),
    });
    if (o.statusServer) cleanup.push(await startStatusServer(dataDir, status));

    // An executor's offer changed while running (a model quarantined): detect again and tell the server.
    pool.onChanged = (found) => applyDetected(hostDeps, found);
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
        await drainAndDeregister({
          loop,
          logger,
          drainMs: opts.drainTimeoutMs ?? o.drainTimeoutSecs * 1000,
          abortGraceMs: o.abortGraceMs,
          finishing: () => finishing,
        });
        if (!finishing) await finish(failedExit ? EXIT.error : restartRequested ? EXIT.restart : EXIT.ok);
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

/** Adds the models the executors hold in memory (the server prefers this agent for their jobs). */
function withLoadedModels(
  sample: { metrics?: AgentMetrics; health?: AgentHealth },
  pool: { loadedModels(): string[] },
): { metrics?: AgentMetrics; health?: AgentHealth } {
  const loadedModels = pool.loadedModels();
  if (loadedModels.length === 0) return sample;
  return { ...sample, metrics: { ...sample.metrics, loadedModels } };
}
