import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `base: "./"`: the built page works from any path, e.g. served from dist/ by a static server.
export default defineConfig({
  plugins: [react()],
  base: "./",
  server: { host: "127.0.0.1", port: 5173, strictPort: true },
});
