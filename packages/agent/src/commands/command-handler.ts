import type { CommandBody } from "@gantry/protocol";

/** What commands act on; start-agent wires it to the control loop, the runner and the pool. */
export interface CommandHost {
  drain(): void;
  resume(): void;
  update(profile: { capabilities?: string[]; tier?: number; capacity?: number }): void;
  /** Re-detects executors; returns the capabilities now offered. */
  rescan(): Promise<string[]>;
  diagnostics(): Promise<unknown>;
  /** Stops gracefully and exits with the restart code (the service manager or `gantry agent` restarts it). */
  restart(): void;
}

export interface CommandOutcome {
  status: "completed" | "failed";
  output?: unknown;
  error?: string;
}

/** Runs one verified command. Restart is scheduled after the result is reported. */
export async function runCommand(command: CommandBody, host: CommandHost): Promise<CommandOutcome> {
  try {
    switch (command.type) {
      case "drain":
        host.drain();
        return { status: "completed", output: { state: "draining" } };
      case "resume":
        host.resume();
        return { status: "completed", output: { state: "running" } };
      case "update":
        host.update(command.params);
        return { status: "completed", output: command.params };
      case "rescan":
        return { status: "completed", output: { capabilities: await host.rescan() } };
      case "diagnostics":
        return { status: "completed", output: await host.diagnostics() };
      case "restart":
        setTimeout(() => host.restart(), 100).unref();
        return { status: "completed", output: { restarting: true } };
    }
  } catch (err) {
    return { status: "failed", error: (err as Error).message };
  }
}
