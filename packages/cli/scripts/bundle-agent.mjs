// Bundles what `gantry agent` runs into packages/cli/dist/ (gitignored), at `npm install` (prepare):
// the CLI, the executor worker thread and the process-isolated executor child, each one plain
// JavaScript file. An idle agent then holds no TypeScript stripper (its WASM memory stays for the
// process's life) and far less source text: see docs/agent.md "Memory". The workspace packages are
// bundled; every npm dependency stays external (native modules, pino's transports and the executors'
// heavy libraries load from node_modules, the heavy ones on first use). `bin/gantry.js` runs the
// bundle for `gantry agent` when it is present and the sources otherwise.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..");
const agent = join(cli, "..", "agent", "src");
const out = join(cli, "dist");

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  // A production install without dev dependencies: `gantry agent` runs the sources.
  console.log("bundle-agent: esbuild is not installed; gantry agent will run from the sources");
  process.exit(0);
}

/** Workspace packages are bundled (resolved to their .ts sources); everything else from npm stays external. */
const externals = {
  name: "npm-external",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path === "@gantry/server") return { path: args.path, external: true }; // `gantry server` only
      if (args.path.startsWith("@gantry/") || args.path.startsWith("node:")) return undefined;
      return { path: args.path, external: true };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const t0 = Date.now();
await esbuild.build({
  entryPoints: {
    "gantry-agent": join(cli, "src", "agent-main.ts"),
    "agent-worker": join(agent, "runner", "worker-entry.ts"),
    "agent-child": join(agent, "runner", "child-entry.ts"),
  },
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  define: { __GANTRY_BUNDLED__: "true" },
  plugins: [externals],
  logLevel: "warning",
});
if (!existsSync(join(out, "gantry-agent.mjs"))) throw new Error("bundle-agent: no output");
console.log(`bundle-agent: ${out} in ${Date.now() - t0} ms`);
