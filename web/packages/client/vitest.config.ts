// The package's tests on their own (`npm test -w @kiln/client`); web/'s
// vite.config.ts also includes them, so `npx vitest run` in web/ runs them.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
