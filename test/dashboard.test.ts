import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ensureDashboardBuilt, launchBrowser, pageErrors, screenshot } from "./helpers/browser.ts";
import { type Proc, runFixture } from "./helpers/processes.ts";
import type { RawAgent } from "./helpers/raw-agent.ts";
import { tempDir } from "./helpers/temp-dir.ts";
import { type TestServer, testServer } from "./helpers/test-server.ts";

/**
 * The dashboard in Chromium against a real server, a real agent process (shell and debug
 * executors, one slot) and a bare protocol agent that reports a recorded NVIDIA H200. Each page is
 * screenshotted at desktop and phone width into test/artifacts/dashboard/.
 */
const FIXTURES = new URL("fixtures/gpu-nvidia-h200", import.meta.url).pathname;
const SHOTS = "dashboard";

/** One `nvidia-smi --query-gpu=…` CSV line as the agent's heartbeat and system info carry it. */
function gpuFromCsv(file: string) {
  const [index, model, total, used, util, driver, cc] = readFileSync(`${FIXTURES}/${file}`, "utf8")
    .trim()
    .split(",")
    .map((s) => s.trim()) as [string, string, string, string, string, string, string];
  return {
    info: {
      vendor: "nvidia",
      model,
      vramMb: Number(total),
      driver,
      computeCapability: cc,
      utilizationPercent: Number(util),
      memoryUsedMb: Number(used),
    },
    usage: { index: Number(index), utilizationPercent: Number(util), memoryUsedMb: Number(used) },
  };
}

let t: TestServer;
let browser: Browser;
let page: Page;
let agent: Proc & { agentId: string };
let gpuAgent: RawAgent;
let errors: string[];
let beatTimer: NodeJS.Timeout | undefined;
let lastUsage: { index: number; utilizationPercent: number; memoryUsedMb: number };
/** The bare agent's heartbeat: the recorded GPU figures, a health warning, and nothing held. */
function beat(usage: typeof lastUsage) {
  lastUsage = usage;
  gpuAgent.send({
    type: "heartbeat",
    status: "busy",
    running: [],
    metrics: { cpuPercent: 42, memoryUsedMb: 20480, memoryTotalMb: 131072, gpus: [usage] },
    health: { healthy: true, issues: [], warnings: ["GPU 0 at 100% for 10 minutes"] },
  } as never);
}
const dir = tempDir();

before(async () => {
  ensureDashboardBuilt();
  t = await testServer({
    heartbeatIntervalSecs: 0.5,
    leaseSecs: 5,
    sweepIntervalMs: 50,
    presenceIntervalMs: 100,
    logLevel: "warn",
  });
  const proc = runFixture("agent-main.ts", {
    server: t.server.url,
    key: t.server.bootstrap.agentKey,
    configPath: `${dir.path}/agent.json`,
    dataDir: `${dir.path}/agent`,
    name: "worker-1",
    capacity: 1,
    allowShell: true,
    statusServer: false,
    logLevel: "warn",
  });
  // A generous bound: an agent process starts slowly on a loaded 2-core machine.
  agent = { ...proc, agentId: (await proc.waitFor(/AGENT (\S+)\n/, 90_000))[1]! };
  const idle = gpuFromCsv("query-idle.csv");
  gpuAgent = await t.agent({
    name: "h200-box",
    capabilities: ["llm.tiny-llama"],
    systemInfo: {
      hostname: "h200-box",
      os: "linux",
      arch: "x64",
      cpu: { model: "AMD EPYC 9654", cores: 16 },
      memoryMb: 131072,
      gpus: [idle.info],
    },
  });
  await gpuAgent.connect();
  beat(gpuFromCsv("query-idle.csv").usage);
  beatTimer = setInterval(() => beat(lastUsage), 250);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  errors = pageErrors(page);
});

after(async () => {
  clearInterval(beatTimer);
  await browser?.close();
  await gpuAgent?.close();
  agent?.kill("SIGTERM");
  await agent?.exited;
  await t?.close();
  dir.remove();
});

test("an admin logs in with the user account", async () => {
  await page.goto(t.server.url);
  await page.getByLabel("Username").fill(t.server.bootstrap.adminUser);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByText("Wrong username or password.").waitFor();
  await screenshot(page, SHOTS, "login-desktop");
  await page.getByLabel("Password").fill(t.server.bootstrap.adminPassword);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  await page.locator(".live-live").waitFor();
  assert.equal(await page.locator("h1").first().textContent(), "Overview");
});

test("an agent's card shows its GPU figures from a recorded NVIDIA heartbeat, live", async () => {
  await page.getByRole("link", { name: "Fleet" }).click();
  const card = page.locator(`[data-agent-id="${gpuAgent.agentId}"]`);
  await card.waitFor();
  assert.match((await card.locator(".gpu-model").textContent()) ?? "", /NVIDIA H200/);
  // Idle figures from registration, then heartbeats with the busy recording.
  await card.locator(".gpu-util", { hasText: /^0%$/ }).waitFor();
  beat(gpuFromCsv("query-busy.csv").usage);
  await card.locator(".gpu-util", { hasText: /^100%$/ }).waitFor();
  assert.equal(await card.locator(".gpu-vram").textContent(), "20.9 GiB / 140.4 GiB");
  await card.getByText("GPU 0 at 100% for 10 minutes").waitFor();
  await card.locator(".badge", { hasText: "busy" }).waitFor();
  await page.locator(`[data-agent-id="${agent.agentId}"] .badge`, { hasText: "idle" }).waitFor();
  await screenshot(page, SHOTS, "fleet-desktop");
});

test("a running job's live log; cancelling it; the next job goes from queued to completed with its progress bar moving", async () => {
  const shell = await t.api.submit({
    capability: "shell.bash",
    payload: { command: 'for i in $(seq 1 600); do echo "line $i"; sleep 0.05; done' },
  });
  await t.api.waitFor(shell.id, (j) => j.status === "running");
  // The agent has one slot: this one waits behind the shell job.
  const sleeper = await t.api.submit({ capability: "debug.sleep", payload: { ms: 3000 } });

  await page.getByRole("link", { name: "Jobs" }).click();
  const row = page.locator(`tr[data-job-id="${sleeper.id}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-status"), "queued");
  // Record every status and progress value the row shows from now on.
  await page.evaluate((id) => {
    const seen: { status: string[]; progress: number[] } = { status: [], progress: [] };
    (window as any).__seen = seen;
    const look = () => {
      const tr = document.querySelector(`tr[data-job-id="${id}"]`);
      if (!tr) return;
      const s = tr.getAttribute("data-status")!;
      if (seen.status.at(-1) !== s) seen.status.push(s);
      const v = Number(tr.querySelector("progress")?.getAttribute("value") ?? Number.NaN);
      if (Number.isFinite(v) && seen.progress.at(-1) !== v) seen.progress.push(v);
    };
    look();
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  }, sleeper.id);
  await page.locator(`tr[data-job-id="${shell.id}"]`).getByRole("link").click();
  await page.getByRole("log").getByText("line 5", { exact: true }).waitFor();
  await page.getByRole("log").getByText("line 40", { exact: true }).waitFor();
  await screenshot(page, SHOTS, "job-desktop");

  await page.getByRole("button", { name: "Cancel job" }).click();
  await page.locator(".job-head .badge", { hasText: "cancelled" }).waitFor();
  assert.equal((await t.api.get(shell.id)).status, "cancelled");

  await page.getByRole("link", { name: "← Jobs" }).click();
  await page.locator(`tr[data-job-id="${sleeper.id}"][data-status="completed"]`).waitFor({ timeout: 20_000 });
  const seen = (await page.evaluate(() => (window as any).__seen)) as { status: string[]; progress: number[] };
  assert.equal(seen.status[0], "queued");
  assert.equal(seen.status.at(-1), "completed");
  assert.ok(seen.status.includes("running") || seen.status.includes("assigned"), `statuses ${seen.status}`);
  assert.ok(
    seen.progress.some((v) => v > 0 && v < 100),
    `progress values ${seen.progress}`,
  );
  assert.equal(seen.progress.at(-1), 100);
  await screenshot(page, SHOTS, "jobs-desktop");
});

test("an admin drains an agent from its card", async () => {
  await page.getByRole("link", { name: "Fleet" }).click();
  const card = page.locator(`[data-agent-id="${agent.agentId}"]`);
  await card.getByRole("button", { name: "Drain" }).click();
  await card.locator(".badge", { hasText: "draining" }).waitFor();
  await card.getByRole("button", { name: "Resume" }).waitFor();
  const listed = await t.api.call("GET", "/v1/agents");
  const view = listed.body.agents.find((a: { id: string }) => a.id === agent.agentId);
  assert.equal(view.status, "draining");
});

test("overview and admin pages; a new key's secret is shown once", async () => {
  await page.getByRole("link", { name: "Overview" }).click();
  await page.locator(".chart canvas").first().waitFor();
  await page.getByRole("region", { name: "Models online" }).getByText("llm.tiny-llama").waitFor();
  await screenshot(page, SHOTS, "overview-desktop");
  await page.getByRole("link", { name: "Admin" }).click();
  await page.getByText("Create a key").click();
  await page.getByLabel("Key name").fill("ci-key");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.getByTestId("new-key").textContent()) ?? "";
  assert.match(secret, /^gnt_c_/);
  const me = await fetch(`${t.server.url}/v1/auth/me`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(me.status, 200);
  await page.getByRole("button", { name: "Done" }).click();
  assert.equal(await page.getByTestId("new-key").count(), 0);
  await page.getByRole("cell", { name: "key.create" }).first().waitFor();
  await screenshot(page, SHOTS, "admin-desktop");
});

test("every page at phone width, and keyboard navigation", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, hash, ready] of [
    ["overview", "#/", ".chart canvas"],
    ["fleet", "#/fleet", ".gpu-util"],
    ["jobs", "#/jobs", "tr[data-job-id]"],
    ["admin", "#/admin", "td >> text=command.send"],
  ] as const) {
    await page.goto(`${t.server.url}/${hash}`);
    await page.locator(ready).first().waitFor();
    await screenshot(page, SHOTS, `${name}-phone`);
    // Nothing overflows the phone's width but the tables' own scrolling boxes.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    const culprits = await page.evaluate(() =>
      Array.from(document.querySelectorAll("body *"))
        .filter((e) => e.getBoundingClientRect().right > 391 && !e.closest(".table-wrap"))
        .slice(0, 5)
        .map((e) => `${e.tagName}.${e.className}`),
    );
    assert.ok(wide <= 390, `${name}: page is ${wide}px wide at 390px: ${culprits}`);
  }
  await page.goto(`${t.server.url}/#/jobs`);
  await page.locator("main h1").waitFor();
  await page.locator(`tr[data-job-id] a`).first().click();
  await page.locator(".job-head").waitFor();
  await screenshot(page, SHOTS, "job-phone");
  // The skip link and the main navigation are reachable with Tab.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${t.server.url}/#/`);
  await page.locator("main h1").waitFor();
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Overview");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.locator("h1", { hasText: "Fleet" }).waitFor();
  // The wrong password above answers 401; a server without `/v1/jobs/stats` answers 400 (the
  // dashboard then counts from the job list). Anything else the page logged is a failure.
  const unexpected = errors.filter(
    (e) => e !== "http 401 /v1/auth/login" && !/^http (400|404) \/v1\/jobs\/stats$/.test(e),
  );
  assert.deepEqual(unexpected, []);
});

test("without a build the server still starts, / says how to build one, and /assets/* serves nothing else", async () => {
  const empty = tempDir();
  const bare = await testServer({ logLevel: "warn", dashboardDir: empty.path });
  try {
    const home = await fetch(`${bare.server.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /npm run build -w packages\/dashboard/);
    const health = await fetch(`${bare.server.url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await bare.close();
    empty.remove();
  }
  // With the build: no path outside the assets folder, and API 404s keep their envelope.
  for (const path of ["/assets/..%2Findex.html", "/assets/%2e%2e/%2e%2e/package.json", "/assets/.hidden"]) {
    const r = await fetch(t.server.url + path);
    assert.equal(r.status, 404, path);
    assert.equal((await r.json()).error.code, "route_not_found", path);
  }
  const asset = (await (await fetch(`${t.server.url}/`)).text()).match(/\/assets\/[\w.-]+\.js/)![0];
  const js = await fetch(t.server.url + asset);
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type") ?? "", /javascript/);
  assert.equal((await fetch(`${t.server.url}/v1/no-such-route`)).status, 404);
});
