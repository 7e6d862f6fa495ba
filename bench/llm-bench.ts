import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAgent } from "@gantry/agent";
import type { LlmCompletionOutput } from "@gantry/protocol";
import { startServer } from "@gantry/server";
import { LlmEngine } from "../packages/agent/src/executors/llm/llm-engine.ts";
import { createLlmExecutor } from "../packages/agent/src/executors/llm/llm-executor.ts";
import { writeTinyLlamaGguf } from "../packages/agent/src/executors/llm/testing/gguf-writer.ts";
import { testContext, testJob, testSettings } from "../packages/agent/src/executors/llm/testing/run-context.ts";
import { median, round } from "./lib/stats.ts";

/**
 * The llm executor against bare node-llama-cpp on one generated model (n_embd 256, 4 blocks) and the
 * same settings (CPU, same threads, greedy, same prompt, history cleared before each run): tokens/s
 * and time to first token, runs interleaved in ABBA order, medians. Then N concurrent requests on one loaded
 * model: one context of N sequences (batched) against one sequence (one at a time).
 * `npx node bench/llm-bench.ts [--quick]`, or `npm run bench -- --only llm`.
 */
export interface LlmBenchResult {
  model: string;
  threads: number;
  tokens: number;
  runs: number;
  bare: Side;
  gantry: Side;
  /** From the medians of tokens/s (wall clock: other load on the machine shows here). */
  overheadPct: number;
  /** From the medians of process CPU time per token (steadier on a shared machine). */
  cpuOverheadPct: number;
  ttftAddedMs: number;
  concurrent: { requests: number; tokens: number; batched: Figures; oneAtATime: Figures };
  /** The same completion through a server and an agent, streamed from `POST /v1/completions` (SSE). */
  openai: Side & { runs: number };
}
interface Side {
  tokPerSec: number;
  ttftMs: number;
  cpuUsPerToken: number;
}
interface Run {
  ms: number;
  ttft: number;
  cpuUs: number;
}
interface Figures {
  wallMs: number;
  tokPerSec: number;
}

const PROMPT = "the cat is in the";

function measured(t0: number, first: number, c0: NodeJS.CpuUsage): Run {
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, ttft: first - t0, cpuUs: c.user + c.system };
}

export async function runLlmBench(quick: boolean, log: (line: string) => void): Promise<LlmBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-llm-bench-"));
  const tokens = quick ? 64 : 256;
  const runs = quick ? 3 : 11;
  const requests = 4;
  try {
    const shape = { seed: 1, embedding: 256, blocks: 4, heads: 4, feedForward: 512, contextLength: 1024 };
    await writeTinyLlamaGguf(join(dir, "bench.gguf"), shape);
    const base = { modelsDir: dir, gpu: "off" as const, watch: false };
    const ex = createLlmExecutor(base);
    if (!(await ex.detect(testSettings(dir))).available) throw new Error("llm is not available here");
    const engine = (await LlmEngine.create(base)) as LlmEngine; // for the bare model and settings
    const threads = engine.runtime.threads;
    log(`llm: model n_embd 256 × 4 blocks, ${threads} threads, ${tokens} tokens × ${runs} runs each`);

    // Bare: the same model file, context size and threads, straight on node-llama-cpp.
    const lib = engine.runtime.lib;
    const model = await engine.runtime.llama.loadModel({ modelPath: join(dir, "bench.gguf") });
    const context = await model.createContext({ contextSize: 1024, threads });
    const seq = context.getSequence();
    const bare = async () => {
      await seq.clearHistory();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let first = 0;
      const completion = new lib.LlamaCompletion({ contextSequence: seq });
      await completion.generateCompletion(PROMPT, {
        maxTokens: tokens,
        temperature: 0,
        onTextChunk: () => {
          first ||= performance.now();
        },
      });
      completion.dispose({ disposeSequence: false });
      return measured(t0, first, c0);
    };
    const signal = new AbortController().signal;
    const gantry = async () => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let first = 0;
      const { ctx } = testContext(dir, signal);
      ctx.progress = () => {
        first ||= performance.now();
      };
      await ex.run(testJob("llm.bench", { prompt: PROMPT, max_tokens: tokens, temperature: 0 }), ctx);
      return measured(t0, first, c0);
    };
    await bare();
    await gantry(); // warm-up: loads the model in the executor
    const b: Run[] = [];
    const g: Run[] = [];
    for (let i = 0; i < runs; i++) {
      // ABBA order: neither side always runs right after the other (caches, CPU frequency).
      if (i % 2 === 0) {
        b.push(await bare());
        g.push(await gantry());
      } else {
        g.push(await gantry());
        b.push(await bare());
      }
    }
    await context.dispose();
    await model.dispose();
    await ex.unload();
    const side = (xs: Run[]): Side => ({
      tokPerSec: round(median(xs.map((x) => (tokens / x.ms) * 1000)), 1),
      ttftMs: round(median(xs.map((x) => x.ttft)), 2),
      cpuUsPerToken: round(median(xs.map((x) => x.cpuUs / tokens)), 1),
    });
    const bareFig = side(b);
    const gantryFig = side(g);

    // Concurrency: the same N requests with N sequences in one context, then with one sequence.
    const concurrent = async (sequences: number): Promise<Figures> => {
      const e = (await LlmEngine.create({ ...base, sequences })) as LlmEngine;
      const payload = (i: number) => ({ prompt: `${PROMPT} ${i}`, max_tokens: tokens, temperature: 0 });
      await e.run("llm.bench", payload(0), { signal }); // load
      const t0 = performance.now();
      const outs = await Promise.all(
        Array.from({ length: requests }, (_, i) => e.run("llm.bench", payload(i), { signal })),
      );
      const wallMs = performance.now() - t0;
      const total = outs.reduce((s, o) => s + (o as LlmCompletionOutput).tokens_used, 0);
      await e.unload();
      return { wallMs: round(wallMs, 1), tokPerSec: round((total / wallMs) * 1000, 1) };
    };
    const batched = await concurrent(requests);
    const oneAtATime = await concurrent(1);
    await engine.unload();
    const openai = await throughOpenAi(dir, tokens, quick ? 3 : 5, log);
    return {
      model: "generated llama, n_embd 256, 4 blocks, 4 heads, ff 512, F32, ctx 1024",
      threads,
      tokens,
      runs,
      bare: bareFig,
      gantry: gantryFig,
      overheadPct: round((1 - gantryFig.tokPerSec / bareFig.tokPerSec) * 100, 2),
      cpuOverheadPct: round((gantryFig.cpuUsPerToken / bareFig.cpuUsPerToken - 1) * 100, 2),
      ttftAddedMs: round(gantryFig.ttftMs - bareFig.ttftMs, 2),
      concurrent: { requests, tokens, batched, oneAtATime },
      openai,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Tokens/s and time to first token as an OpenAI client sees them: a server and an agent in this
 * process, `POST /v1/completions` with `stream: true`, timed from the request to the first content
 * chunk and to `[DONE]`. Everything (HTTP, dispatch, token events, SSE) is in the figure.
 */
async function throughOpenAi(
  modelsDir: string,
  tokens: number,
  runs: number,
  log: (line: string) => void,
): Promise<Side & { runs: number }> {
  const data = await mkdtemp(join(tmpdir(), "gantry-llm-bench-server-"));
  const server = await startServer({ port: 0, dataDir: join(data, "server"), logLevel: "warn" });
  const agent = await startAgent({
    server: server.url,
    key: server.bootstrap.agentKey,
    configPath: join(data, "agent.json"),
    dataDir: join(data, "agent"),
    modelsDir,
    gpu: "off",
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  try {
    const headers = { authorization: `Bearer ${server.bootstrap.clientKey}`, "content-type": "application/json" };
    for (let i = 0; ; i++) {
      const r = (await (await fetch(`${server.url}/v1/models`, { headers })).json()) as { data: { id: string }[] };
      if (r.data.some((m) => m.id === "bench")) break;
      if (i > 300) throw new Error("the bench model never came online");
      await new Promise((r) => setTimeout(r, 100));
    }
    const once = async (): Promise<Run> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let first = 0;
      const res = await fetch(`${server.url}/v1/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "bench", prompt: PROMPT, max_tokens: tokens, temperature: 0, stream: true }),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        if (!first && /"text":"[^"]/.test(text)) first = performance.now();
      }
      if (!text.includes("data: [DONE]")) throw new Error(`the stream did not finish: ${text.slice(-300)}`);
      return measured(t0, first, c0);
    };
    await once(); // warm-up: loads the model in the agent
    const xs: Run[] = [];
    for (let i = 0; i < runs; i++) xs.push(await once());
    log(`llm: ${runs} completions through POST /v1/completions (stream)`);
    return {
      runs,
      tokPerSec: round(median(xs.map((x) => (tokens / x.ms) * 1000)), 1),
      ttftMs: round(median(xs.map((x) => x.ttft)), 2),
      cpuUsPerToken: round(median(xs.map((x) => x.cpuUs / tokens)), 1),
    };
  } finally {
    await agent.stop({ drainTimeoutMs: 0 });
    await server.close();
    await rm(data, { recursive: true, force: true });
  }
}

export function renderLlmBench(r: LlmBenchResult): string {
  return [
    `llm (${r.model}; ${r.threads} threads; ${r.tokens} tokens, median of ${r.runs})`,
    `  bare node-llama-cpp   ${r.bare.tokPerSec} tok/s   first token ${r.bare.ttftMs} ms   ${r.bare.cpuUsPerToken} µs CPU/token`,
    `  gantry llm executor   ${r.gantry.tokPerSec} tok/s   first token ${r.gantry.ttftMs} ms   ${r.gantry.cpuUsPerToken} µs CPU/token`,
    `  overhead ${r.overheadPct}% tok/s (${r.cpuOverheadPct}% CPU/token), +${r.ttftAddedMs} ms to first token`,
    `  ${r.concurrent.requests} concurrent requests: ${r.concurrent.requests} sequences ${r.concurrent.batched.tokPerSec} tok/s (${r.concurrent.batched.wallMs} ms)` +
      ` vs one at a time ${r.concurrent.oneAtATime.tokPerSec} tok/s (${r.concurrent.oneAtATime.wallMs} ms)`,
    `  via POST /v1/completions (server + agent, streamed, median of ${r.openai.runs}): ${r.openai.tokPerSec} tok/s   first token ${r.openai.ttftMs} ms`,
  ].join("\n");
}

if (import.meta.main) {
  const r = await runLlmBench(process.argv.includes("--quick"), (l) => process.stdout.write(`· ${l}\n`));
  process.stdout.write(`${renderLlmBench(r)}\n`);
}
