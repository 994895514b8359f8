// Build and dev-server settings for the Kiln editor.
//
// `npm run build` writes web/dist/, which the C++ server serves as static
// assets. `npm run dev` serves the editor with hot reload and forwards /api
// (REST and the /api/v1/ws WebSocket) to a `kiln serve` on its default port,
// so the page talks to a real server with same-origin URLs in both setups.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const KILN_SERVER = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': { target: KILN_SERVER, ws: true, changeOrigin: false },
    },
  },
  test: {
    // The editor's tests and those of the workspace packages (@kiln/client):
    // `npx vitest run` here runs them all.
    include: ['src/**/*.test.ts', 'packages/*/src/**/*.test.ts'],
    environment: 'node',
  },
});
