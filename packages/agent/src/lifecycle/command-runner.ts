import type { AgentToServer } from "@gantry/protocol";
import type { Logger } from "pino";
import type { Outbox } from "../outbox/outbox.ts";
import type { CommandReport } from "./control-loop-options.ts";
import type { OutgoingBatcher } from "./outgoing-batcher.ts";

export interface CommandRunnerDeps {
  /** Verifies and runs a signed command (absent: commands are ignored). */
  onCommand: ((jws: string) => Promise<CommandReport>) | undefined;
  out: OutgoingBatcher;
  outbox: Outbox;
  logger: Logger;
}

/** Runs one signed server command and reports its outcome as a `command:result` request. */
export async function runCommandFrame(jws: string, d: CommandRunnerDeps): Promise<void> {
  if (!d.onCommand) return;
  const r = await d.onCommand(jws);
  if (r.status === "refused") d.logger.warn({ commandId: r.commandId, reason: r.error }, "command refused");
  else d.logger.info({ commandId: r.commandId, status: r.status }, "command done");
  const msg: AgentToServer = {
    type: "command:result",
    ref: d.outbox.allocRef(),
    commandId: r.commandId,
    status: r.status,
  };
  if (r.output !== undefined) msg.output = r.output;
  if (r.error !== undefined) msg.error = r.error.slice(0, 10_000);
  if (!(await d.out.request(msg, 30_000))) d.logger.warn({ commandId: r.commandId }, "command result not acknowledged");
}
