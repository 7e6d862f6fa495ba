import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Agent, startAgent } from "@gantry/agent";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { launchBrowser, pageErrors } from "./helpers/browser.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The SDK bundled for the browser (esbuild, platform browser: mqtt's browser build, no Node
 * built-ins), run in Chromium: it uploads a Blob, submits a job and follows it to completion over
 * MQTT-over-WebSocket on the server's embedded broker, with a real agent doing the work.
 */
let t: TestServer;
let agent: Agent;
let browser: Browser;
let bundle: string;
const dir = tempDir();

before(async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL("fixtures/sdk-browser-entry.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    // Node-only paths (downloads to a file path) import these lazily; a browser never reaches them.
    external: ["node:*"],
    logLevel: "silent",
  });
  bundle = out.outputFiles[0]!.text;
  t = await testServer({ heartbeatIntervalSecs: 0.5, leaseSecs: 5, sweepIntervalMs: 50, logLevel: "warn" });
  agent = await startAgent({
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: join(dir.path, "agent.json"),
    dataDir: join(dir.path, "agent"),
    metrics: false,
    statusServer: false,
    logLevel: "silent",
    print: () => {},
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await t?.close();
  dir.remove();
});

test("the SDK in Chromium submits a job and follows it to completion over MQTT-over-WebSocket", async () => {
  const page = await browser.newPage();
  const errors = pageErrors(page);

  // A document the server itself answers (its /healthz), so the page's origin is the server's: no
  // CORS, and Chromium's local-network checks see a loopback page talking to loopback.
  await page.goto(`${t.server.url}/healthz`);
  await page.addScriptTag({ content: bundle, type: "module" });
  await page.waitForFunction(() => "submitAndFollow" in globalThis);
  const run = await page.evaluate(([url, key]) => (globalThis as any).submitAndFollow(url, key), [
    t.server.url,
    t.server.bootstrap.clientKey,
  ] as const);
  assert.equal(run.error, null);
  assert.equal(run.transport, "mqtt", `fell back: ${run.skipped}`);
  assert.deepEqual(run.skipped, []);
  assert.equal(run.completions, 1);
  assert.equal(run.final.status, "completed");
  assert.deepEqual(run.final.inputs, ["note.txt"]);
  assert.ok(run.progress.length > 0, "progress arrived over MQTT");
  assert.deepEqual(
    run.progress,
    [...run.progress].sort((a: number, b: number) => a - b),
    "progress in order",
  );
  const job = await t.api.get(run.final.id);
  assert.equal(job.status, "completed");
  // The plain /healthz page's favicon request answers 404; nothing else may fail.
  assert.deepEqual(
    errors.filter((e) => e !== "http 404 /favicon.ico"),
    [],
  );
  await page.close();
});
