import { defineConfig } from "vite";

// Preact's automatic JSX runtime through esbuild; no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 800, reportCompressedSize: true },
});
