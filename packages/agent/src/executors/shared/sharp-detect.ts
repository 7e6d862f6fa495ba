import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Detection } from "../../runner/executor.ts";
import { missingTool } from "./probe-video.ts";

const require = createRequire(import.meta.url);

/** sharp's name for this platform (`linux-x64`, `linuxmusl-arm64`, …), as its loader builds it. */
function sharpPlatform(): string {
  const report = process.platform === "linux" ? (process.report?.getReport() as { header?: object }) : undefined;
  const musl = report?.header && !("glibcVersionRuntime" in report.header);
  return `${process.platform}${musl ? "musl" : ""}-${process.arch}`;
}

/**
 * Null when sharp and its native binary for this platform are installed, else why not. Found by
 * resolving files, never by loading sharp: detection runs at every agent start, and loading libvips
 * costs ~35 MB of RSS for good (a native library is never unloaded). The executor loads it on first use.
 */
export function missingSharp(): string | null {
  sharpProblem ??= { why: findSharp() };
  return sharpProblem.why;
}

function readPackage(dir: string): { name?: string; version: string } | undefined {
  const file = join(dir, "package.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/** One look per thread: seven plugins ask. */
let sharpProblem: { why: string | null } | undefined;

function findSharp(): string | null {
  let dir: string;
  let version: string;
  try {
    // sharp's exports hide its package.json: found from its entry file, up.
    dir = dirname(require.resolve("sharp"));
    let pkg = readPackage(dir);
    while (pkg?.name !== "sharp" && dirname(dir) !== dir) {
      dir = dirname(dir);
      pkg = readPackage(dir);
    }
    if (pkg?.name !== "sharp") return "sharp cannot be loaded: its package.json was not found";
    version = pkg.version;
  } catch (err) {
    return `sharp cannot be loaded: ${(err as Error).message.split("\n")[0]}`;
  }
  const platform = sharpPlatform();
  // The places sharp's own loader tries, in its order: a local build, then the prebuilt packages.
  if (existsSync(join(dir, "src", "build", "Release", `sharp-${platform}-${version}.node`))) return null;
  for (const prebuilt of [`@img/sharp-${platform}/sharp.node`, "@img/sharp-wasm32/sharp.node"]) {
    try {
      createRequire(join(dir, "package.json")).resolve(prebuilt);
      return null;
    } catch {
      // not this one
    }
  }
  return `sharp cannot be loaded: no native binary for ${platform} is installed (npm install --include=optional sharp)`;
}

/** Available when sharp is installed (and, for video plugins, when ffmpeg and ffprobe run). */
export async function detectMedia(tools: string[] = []): Promise<Detection> {
  const reasons = [missingSharp()];
  for (const tool of tools) reasons.push(await missingTool(tool));
  const why = reasons.filter((r): r is string => r !== null);
  return why.length === 0 ? { available: true } : { available: false, reason: why.join("; ") };
}
