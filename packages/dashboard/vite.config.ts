import { defineConfig } from "vite";

// The SDK imports node:fs and friends lazily, only on Node-only paths (files given as paths,
// downloads to a path); in the browser they resolve to an empty module.
const nodeStub = decodeURIComponent(new URL("./src/node-stub.ts", import.meta.url).pathname);

// Preact's automatic JSX runtime through esbuild; no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  resolve: { alias: [{ find: /^node:.*$/, replacement: nodeStub }] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      // zod's sources carry /*@__PURE__*/ comments Rollup cannot place; harmless, and noisy at install.
      onwarn(warning, warn) {
        if (warning.code !== "INVALID_ANNOTATION") warn(warning);
      },
    },
  },
});
