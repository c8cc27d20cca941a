import { defineConfig } from "vite";

// Served by the molesignal binary under /ui (embedded at build time); `npm run dev` proxies the API to a local node.
export default defineConfig({
  base: "/ui/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 600 },
  server: { proxy: { "/api": "http://127.0.0.1:5080" } },
});
