#!/usr/bin/env node
// The `gantry` launcher. Plain JavaScript so that any Node can start it: the CLI itself is TypeScript
// run by Node >= 22.18's type stripping. An older `node` found first on PATH re-executes this file
// with the repository's own Node (the `node` devDependency), forwarding exit code and signals.
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const canStripTypes = major > 22 || (major === 22 && minor >= 18);

if (canStripTypes) {
  // `gantry agent` runs from one bundled file when there is one (a third of the sources' idle memory).
  const bundle = process.argv[2] === "agent" ? (await import("./agent-bundle.js")).agentBundle() : null;
  if (bundle) execWithAgentFlags();
  await import(bundle ?? "../src/main.ts");
} else {
  const self = realpathSync(fileURLToPath(import.meta.url));
  const node = findRepoNode(dirname(self));
  if (!node) {
    process.stderr.write(
      `gantry needs Node >= 22.18 (this is ${process.version}); run \`npm install\` in the Gantry repository ` +
        "to get its pinned Node, or put a newer node on PATH.\n",
    );
    process.exit(1);
  }
  const child = spawn(node, [self, ...process.argv.slice(2)], { stdio: "inherit" });
  const forward = (signal) => child.kill(signal);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, forward);
  child.on("error", (error) => {
    process.stderr.write(`gantry: cannot start ${node}: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal so our parent sees what really happened.
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.off(s, forward);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}

/** Walks up from the launcher looking for the repository's `node` devDependency. */
function findRepoNode(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    for (const candidate of ["node_modules/node/bin/node", "node_modules/.bin/node"]) {
      const path = join(dir, candidate);
      if (existsSync(path) && realpathSync(path) !== realpathSync(process.execPath)) return path;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * V8 flags for the agent process (and its executor threads, which share the process's flags): a
 * young generation of 2 × 2 MB instead of growing to 2 × 8 MB per isolate, which start-up alone
 * fills and V8 then keeps for good; see docs/agent.md "Memory". They must be given when the process
 * starts, so the launcher replaces itself (same pid, stdio and signals) with `node <flags> gantry.js
 * agent …` where process.execve exists (Linux, macOS); elsewhere the agent runs without them.
 */
function execWithAgentFlags() {
  const flags = ["--max-semi-space-size=2"];
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (typeof process.execve !== "function" || given.some((a) => a.startsWith("--max-semi-space-size"))) return;
  try {
    process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)]);
  } catch {
    // could not replace the process: run here, without the flags
  }
}
