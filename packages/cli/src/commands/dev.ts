import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GantryClient, sleep } from "@gantry/client";
import type { Command } from "commander";
import type { CliContext } from "../cli-context.ts";
import { parsePort } from "../option-parsers.ts";
import { shutdownSignal } from "../shutdown-signal.ts";
import { listening, serverOptions } from "./server.ts";

/** The CLI entry the local agent child runs (this process's Node, which strips types). */
const CLI_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const AGENT_CAPACITY = 4;
/** How long the agent gets to drain on shutdown before SIGKILL. */
const AGENT_STOP_MS = 10_000;
const AGENT_SIGINT_GRACE_MS = 2000;

/** `gantry dev` (what `npm start` runs): the server in-process plus one local agent as a child process. */
export function registerDev(parent: Command, ctx: CliContext): void {
  parent
    .command("dev")
    .description("run a server and one local agent (capacity 4) for development; prints a ready-to-paste submit")
    .option("--port <port>", "TCP port; 0 picks a free one (default: $GANTRY_PORT or 7070)", parsePort)
    .option(
      "--data <dir>",
      "data directory (default: $GANTRY_DATA_DIR or ./.gantry); the agent lives in <data>/local-agent",
    )
    .option("--log-level <level>", "server and agent log level (default: $GANTRY_LOG_LEVEL or info)")
    .option("--json", "once running, print one JSON line on stdout: url, MQTT, data dir, bootstrap file, agent pid")
    .action(async (flags: { port?: number; data?: string; logLevel?: string; json?: boolean }) => {
      const { startServer } = await import("@gantry/server");
      const options = serverOptions(flags, ctx);
      const logLevel = options.logLevel;
      const server = await startServer(options);
      const agentDir = join(server.dataDir, "local-agent");
      mkdirSync(agentDir, { recursive: true });
      let stopping = false;
      const agent = spawn(
        process.execPath,
        [
          CLI_MAIN,
          "agent",
          "--server",
          server.url,
          "--key",
          server.bootstrap.agentKey,
          "--config",
          join(agentDir, "agent.json"),
          "--data",
          agentDir,
          "--capacity",
          String(AGENT_CAPACITY),
          ...(logLevel ? ["--log-level", logLevel] : []),
        ],
        { stdio: ["ignore", "inherit", "inherit"] },
      );
      agent.on("exit", (code, signal) => {
        if (!stopping) ctx.stderr(`local agent exited (${signal ?? `code ${code}`}); the server keeps running\n`);
      });
      ctx.stderr(
        `\nGantry dev is running at ${server.url}\n` +
          `  data dir:    ${server.dataDir}\n` +
          `  client key:  "clientKey" in ${server.bootstrapPath}\n` +
          `  dashboard:   ${server.url}/ (user "${server.bootstrap.adminUser}", "adminPassword" in ${server.bootstrapPath})\n` +
          `  local agent: pid ${agent.pid}, capacity ${AGENT_CAPACITY}, identity in ${join(agentDir, "agent.json")}\n\n` +
          // The key is read from bootstrap.json by the pasted command, so it never lands in a log.
          `Try:\n  GANTRY_URL=${server.url} GANTRY_API_KEY=$(node -p 'require(${JSON.stringify(server.bootstrapPath)}).clientKey') npx gantry submit debug.echo --payload '{"x":1}' --wait --json\n\n` +
          `Press Ctrl+C to stop.\n`,
      );
      if (flags.json) ctx.stdout(`${JSON.stringify({ ...listening(server), agentPid: agent.pid ?? null })}\n`);
      void announceAgent(
        new GantryClient({ url: server.url, apiKey: server.bootstrap.clientKey }),
        ctx,
        () => stopping,
      );
      const signal = await shutdownSignal();
      stopping = true;
      ctx.stderr(`${signal}: stopping the local agent and the server\n`);
      await stopChild(agent, signal);
      await server.close();
    });
}

/** Says when the local agent is online, so the printed command is known to work. */
async function announceAgent(client: GantryClient, ctx: CliContext, stopped: () => boolean): Promise<void> {
  for (let i = 0; i < 60 && !stopped(); i++) {
    try {
      const agents = await client.agents();
      if (agents.some((a) => a.online)) {
        ctx.stderr("local agent connected: ready for jobs\n");
        return;
      }
    } catch {
      // the server may still be starting; try again
    }
    await sleep(500);
  }
}

/**
 * Stops the agent: SIGTERM (it drains), then SIGKILL if it takes too long. A terminal's Ctrl+C
 * already sent SIGINT to the whole process group, agent included, and a second signal would make
 * the agent skip its drain, so after SIGINT we give it a moment to stop on its own first.
 */
async function stopChild(child: ChildProcess, received: NodeJS.Signals): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const within = async (ms: number): Promise<boolean> => {
    // The timer is cancelled once the child exits, so it cannot keep this process alive.
    const timer = new AbortController();
    const timedOut = sleep(ms, timer.signal).then(
      () => false,
      () => true,
    );
    const result = await Promise.race([exited.then(() => true), timedOut]);
    timer.abort();
    return result;
  };
  if (received === "SIGINT" && (await within(AGENT_SIGINT_GRACE_MS))) return;
  child.kill("SIGTERM");
  if (await within(AGENT_STOP_MS)) return;
  child.kill("SIGKILL");
  await exited;
}
