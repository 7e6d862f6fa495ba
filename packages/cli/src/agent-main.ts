import { registerAgentCommands } from "./commands/agent.ts";
import { createRootProgram } from "./root-program.ts";
import { processIo, runProgram } from "./run-program.ts";

// The entry of the `gantry agent` bundle (scripts/bundle-agent.mjs): the program with only the agent
// commands, so an agent process never loads the other commands' modules (the client SDK, MQTT,
// progress bars, profiles): less code and heap held for the agent's whole life.
const code = await runProgram(process.argv.slice(2), processIo, (ctx) => {
  const program = createRootProgram(ctx);
  registerAgentCommands(program, ctx);
  return program;
});
if (code !== 0) process.exitCode = code;
