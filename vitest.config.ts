import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The install paths (npm installs, packs, the bundle) run on their own: `npm run test:install`.
    exclude: ['test/install/**', 'node_modules/**'],
    // npm run coverage: spawned processes write V8 coverage too (a no-op otherwise).
    setupFiles: ['test/setup/child-coverage.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
