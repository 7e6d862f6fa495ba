import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

/** Debian's chromium (`.ci/apt-packages`); Playwright's own browser downloads are never used. */
export const CHROMIUM = process.env.GANTRY_TEST_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Screenshots and other browser artefacts (gitignored). */
export const ARTIFACTS = join(ROOT, "test/artifacts");

/** One headless Chromium for a whole test file (launching is the slow part). */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** The dashboard's build output; built now if `npm install` has not built it, or its sources changed since. */
export function ensureDashboardBuilt(): string {
  const dist = join(ROOT, "packages/dashboard/dist");
  const index = join(dist, "index.html");
  const src = join(ROOT, "packages/dashboard/src");
  const sources = [
    ...readdirSync(src, { recursive: true }).map((f) => join(src, String(f))),
    join(src, "../index.html"),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(index) || statSync(index).mtimeMs < newest) {
    const r = spawnSync("npm", ["run", "build", "-w", "packages/dashboard"], { cwd: ROOT, stdio: "inherit" });
    if (r.status !== 0) throw new Error("building the dashboard failed");
  }
  return dist;
}

/** Saves a full-page screenshot as `test/artifacts/<dir>/<name>.png` and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const folder = join(ARTIFACTS, dir);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Collects what went wrong in a page: uncaught exceptions, console errors, and HTTP answers of 400
 * or more (as `http <status> <path>`; the console's own "Failed to load resource" lines, which name
 * no URL, are left out).
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()} ${new URL(r.url()).pathname}`);
  });
  return errors;
}
