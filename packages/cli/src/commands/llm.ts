import { createInterface } from "node:readline";
import { type GantryClient, type LlmCallOptions, type LlmRun, NotFoundError } from "@gantry/client";
import type { LlmChatMessage } from "@gantry/protocol";
import { type Command, InvalidArgumentError } from "commander";
import type { CliContext } from "../cli-context.ts";
import { addClientFlags, type ClientFlags, clientFromFlags } from "../client-flags.ts";
import { EXIT } from "../exit-codes.ts";
import { parseNonNegativeInteger, parsePositiveInteger } from "../option-parsers.ts";

interface LlmFlags extends ClientFlags {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  stop?: string[];
  json?: boolean;
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a number ≥ 0");
  return n;
}

/** The sampling flags both subcommands take. */
function addSamplingFlags(command: Command): Command {
  return command
    .option("--max-tokens <n>", "most tokens to generate", parsePositiveInteger)
    .option("--temperature <t>", "sampling temperature; 0 is greedy (deterministic)", parseNumber)
    .option("--top-p <p>", "nucleus sampling", parseNumber)
    .option("--top-k <k>", "top-k sampling", parseNonNegativeInteger)
    .option("--seed <n>", "sampling seed: the same seed gives the same text", parseNonNegativeInteger)
    .option("--stop <text>", "stop generating at this text (repeatable)", (v: string, acc: string[] = []) => [
      ...acc,
      v,
    ]);
}

function settingsOf(f: LlmFlags): LlmCallOptions {
  const o: LlmCallOptions = {};
  if (f.maxTokens !== undefined) o.max_tokens = f.maxTokens;
  if (f.temperature !== undefined) o.temperature = f.temperature;
  if (f.topP !== undefined) o.top_p = f.topP;
  if (f.topK !== undefined) o.top_k = f.topK;
  if (f.seed !== undefined) o.seed = f.seed;
  if (f.stop?.length) o.stop = f.stop;
  return o;
}

/**
 * Prints a run's text to stdout as its tokens arrive (or, with --json, the finished output as one
 * JSON line) and returns the text. Ctrl-C cancels the job (exit 130).
 */
async function follow(run: LlmRun, ctx: CliContext, json: boolean | undefined): Promise<string> {
  const onSigint = () => {
    ctx.exitCode = EXIT.interrupted;
    void run.cancel().catch(() => {});
  };
  process.once("SIGINT", onSigint);
  try {
    if (!json) for await (const piece of run.tokens) ctx.stdout(piece);
    const done = await run.wait();
    if (json) ctx.stdout(`${JSON.stringify({ jobId: done.id, ...done.output })}\n`);
    else ctx.stdout("\n");
    return done.output.text;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** A model no agent offers would queue forever: say so instead (exit 4). */
async function assertOnline(client: GantryClient, model: string): Promise<void> {
  const name = model.toLowerCase().replace(/^llm\./, "");
  const online = await client.llm.models();
  if (online.some((m) => m.id === name)) return;
  const known = online.map((m) => m.id).join(", ") || "none";
  const message = `no agent online offers the model '${model}' (online: ${known}); see \`gantry models\``;
  throw new NotFoundError("model_not_found", 404, message);
}

/** `gantry llm complete MODEL PROMPT` and `gantry llm chat MODEL`: generation on the fleet, streamed. */
export function registerLlm(parent: Command, ctx: CliContext): void {
  const llm = parent.command("llm").description("run llm models on the fleet (see `gantry models`)");

  const complete = llm
    .command("complete")
    .description("complete a prompt (no chat template); the text streams to stdout as it is generated")
    .argument("<model>", "model name, e.g. tinyllama-1b-q4 (capability llm.<model>)")
    .argument("<prompt>", "the prompt")
    .option("--json", "print the finished output (text, tokens_used, finish_reason, …) as one JSON line");
  addClientFlags(addSamplingFlags(complete)).action(async (model: string, prompt: string, flags: LlmFlags) => {
    const client = clientFromFlags(flags, ctx);
    try {
      await assertOnline(client, model);
      await follow(await client.llm.complete(model, prompt, settingsOf(flags)), ctx, flags.json);
    } finally {
      client.close();
    }
  });

  const chat = llm
    .command("chat")
    .description("chat with a model: one line per message from stdin, answers streamed to stdout; history is kept")
    .argument("<model>", "model name, e.g. tinyllama-1b-q4 (capability llm.<model>)")
    .option("--system <text>", "a system message to start the conversation with")
    .option("--json", "print each answer as one JSON line");
  addClientFlags(addSamplingFlags(chat)).action(async (model: string, flags: LlmFlags & { system?: string }) => {
    const client = clientFromFlags(flags, ctx);
    await assertOnline(client, model);
    const history: LlmChatMessage[] = flags.system ? [{ role: "system", content: flags.system }] : [];
    const tty = process.stdin.isTTY === true;
    const rl = createInterface({ input: process.stdin, terminal: tty });
    if (tty) ctx.stderr(`chatting with ${model}; an empty line or Ctrl-D ends\n> `);
    try {
      for await (const line of rl) {
        if (line.trim() === "" && tty) break;
        if (line.trim() === "") continue;
        history.push({ role: "user", content: line });
        const text = await follow(await client.llm.chat(model, history, settingsOf(flags)), ctx, flags.json);
        history.push({ role: "assistant", content: text });
        if (ctx.exitCode === EXIT.interrupted) break;
        if (tty) ctx.stderr("> ");
      }
    } finally {
      rl.close();
      client.close();
    }
  });
}
