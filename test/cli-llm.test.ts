import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Agent, startAgent } from "@gantry/agent";
import { CHATML_TEMPLATE, modelsDir } from "../packages/agent/src/executors/llm/testing/models-dir.ts";
import { runGantry } from "./helpers/gantry-cli.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { sleep, type TestServer, testServer } from "./helpers/test-server.ts";

/** `gantry models`, `gantry llm complete` and `gantry llm chat`, as users run them, against a real agent. */
const dir = tempDir();
let t: TestServer;
let agent: Agent;
let models: Awaited<ReturnType<typeof modelsDir>>;
let env: Record<string, string>;
before(async () => {
  models = await modelsDir({ "tiny-a": { seed: 1, chatTemplate: CHATML_TEMPLATE } });
  t = await testServer();
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    modelsDir: models.dir,
    gpu: "off",
    logLevel: "silent",
    print: () => {},
    statusServer: false,
    metrics: false,
  });
  env = { GANTRY_URL: t.server.url, GANTRY_API_KEY: t.server.bootstrap.clientKey };
  while ((await t.api.call("GET", "/v1/models")).body.data.length < 1) await sleep(100);
});
after(async () => {
  await agent?.stop({ drainTimeoutMs: 0 });
  await t?.close();
  await models?.remove();
  dir.remove();
});

test("gantry models lists the models online; --json gives them as JSON", async () => {
  const table = await runGantry(["models"], env);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^MODEL\s+AGENTS\s+ATTRIBUTES\ntiny-a\s+1\s+gpu:cpu;ctx:256;quant:f32;size_mb:1\n$/);
  const json = await runGantry(["models", "--json"], env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    JSON.parse(json.stdout).models.map((m: { id: string }) => m.id),
    ["tiny-a"],
  );
});

test("gantry llm complete streams the text to stdout; --json prints the output", async () => {
  const args = ["llm", "complete", "tiny-a", "the cat", "--max-tokens", "10", "--temperature", "0"];
  const json = await runGantry([...args, "--json"], env);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout);
  assert.equal(out.finish_reason, "length");
  assert.equal(out.tokens_used, 10);
  const plain = await runGantry(args, env);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, `${out.text}\n`, "the same greedy text, streamed");
});

test("gantry llm chat answers each stdin line in turn, keeping the history", async () => {
  const r = await runGantry(
    ["llm", "chat", "tiny-a", "--max-tokens", "6", "--temperature", "0", "--json"],
    env,
    "hello\nand then?\n",
  );
  assert.equal(r.code, 0, r.stderr);
  const turns = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(turns.length, 2);
  assert.ok(turns[1].prompt_tokens > turns[0].prompt_tokens, "the second turn carries the first as history");
  const second = await t.api.get(turns[1].jobId);
  const messages = (second.payload as { messages: { role: string; content: string }[] }).messages;
  assert.deepEqual(
    messages.map((m) => m.role),
    ["user", "assistant", "user"],
  );
  assert.equal(messages[1]?.content, turns[0].text);
});

test("an unknown model: a clear error and a non-zero exit", async () => {
  const r = await runGantry(["llm", "complete", "tiny-a", "x", "--max-tokens", "0"], env);
  assert.equal(r.code, 2, "a bad flag is a usage error");
  const none = await runGantry(["llm", "complete", "no-such-model", "x", "--max-tokens", "4"], env);
  assert.equal(none.code, 4, none.stderr);
  assert.match(none.stderr, /model_not_found .*no-such-model.*tiny-a/);
});
