import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LlmCompletionOutput } from "@gantry/protocol";
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
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
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
  ].join("\n");
}

if (import.meta.main) {
  const r = await runLlmBench(process.argv.includes("--quick"), (l) => process.stdout.write(`· ${l}\n`));
  process.stdout.write(`${renderLlmBench(r)}\n`);
}
